/**
 * Why a model could not be made ResMem-ready. Each error has a stable `code` for callers and a message
 * that says what was looked for and what was found instead.
 */
export type ExportErrorCode =
  | 'invalid-model'
  | 'external-data'
  | 'missing-logits'
  | 'classifier-not-found'
  | 'weight-not-initializer'
  | 'classifier-shape'
  | 'embedding-name-clash'
  | 'embedding-exists'
  | 'invalid-key'
  | 'key-tensor-not-found'
  | 'key-shape'
  | 'missing-input'
  | 'key-preset-unresolved'

export class ExportGraphError extends Error {
  readonly code: ExportErrorCode
  constructor(code: ExportErrorCode, message: string) {
    super(message)
    this.name = 'ExportGraphError'
    this.code = code
  }
}

/** The bytes are not an ONNX ModelProto with a graph, or are laid out in a way we refuse to edit. */
export class InvalidModelError extends ExportGraphError {
  constructor(message: string) {
    super('invalid-model', message)
    this.name = 'InvalidModelError'
  }
}

/** A tensor lives in an external file: the .onnx bytes alone are not the model. */
export class ExternalDataError extends ExportGraphError {
  readonly tensor: string
  constructor(tensor: string, location: string | undefined) {
    super(
      'external-data',
      `tensor "${tensor}" is stored as external data${location ? ` (location "${location}")` : ''}; ` +
        'expected all weights inside the .onnx file (re-export without external data, e.g. onnx.save(model, path, save_as_external_data=False))',
    )
    this.name = 'ExternalDataError'
    this.tensor = tensor
  }
}

export class MissingLogitsError extends ExportGraphError {
  readonly logits: string
  readonly outputs: string[]
  constructor(logits: string, outputs: string[]) {
    const found = outputs.length ? outputs.map((o) => `"${o}"`).join(', ') : 'none'
    super('missing-logits', `looked for a graph output named "${logits}"; the graph's outputs are: ${found} (pass options.logits to pick one)`)
    this.name = 'MissingLogitsError'
    this.logits = logits
    this.outputs = outputs
  }
}

export class ClassifierNotFoundError extends ExportGraphError {
  readonly logits: string
  /** The op types walked from the logits backwards, nearest to the logits first. */
  readonly path: string[]
  constructor(logits: string, path: string[], stop: string) {
    const walked = path.length ? ` after walking back through ${path.join(' <- ')}` : ''
    super(
      'classifier-not-found',
      `looked for the MatMul or Gemm that produces "${logits}" (through Identity, Dropout, Cast, Reshape, Squeeze, ` +
        `Unsqueeze, Flatten, and Add/Sub/Mul/Div with a constant); none found${walked}: ${stop}`,
    )
    this.name = 'ClassifierNotFoundError'
    this.logits = logits
    this.path = path
  }
}

export class WeightNotInitializerError extends ExportGraphError {
  readonly node: string
  readonly weight: string
  constructor(op: string, node: string, weight: string, producer: string | undefined) {
    const what = producer ? `it is produced by ${producer}` : 'it is a graph input or missing'
    const hint = producer?.startsWith('Transpose') ? ' (re-export with do_constant_folding=True to fold the transposed weight)' : ''
    super('weight-not-initializer', `expected the weight "${weight}" of the final ${op} "${node}" to be an initializer; ${what}${hint}`)
    this.name = 'WeightNotInitializerError'
    this.node = node
    this.weight = weight
  }
}

/** The final layer's weight or attributes don't describe a [.., H] x [H, C] classifier for these logits. */
export class ClassifierShapeError extends ExportGraphError {
  constructor(message: string) {
    super('classifier-shape', message)
    this.name = 'ClassifierShapeError'
  }
}

export class EmbeddingNameClashError extends ExportGraphError {
  readonly output: string
  constructor(output: string, where: string) {
    super(
      'embedding-name-clash',
      `cannot add graph output "${output}": a tensor of that name already exists (${where}) and is not a graph output; pass options.output to choose another name`,
    )
    this.name = 'EmbeddingNameClashError'
    this.output = output
  }
}

/** The graph already outputs `output`, computed from another key than the one asked for. */
export class EmbeddingExistsError extends ExportGraphError {
  readonly output: string
  constructor(output: string, existing: string, requested: string) {
    super(
      'embedding-exists',
      `the graph already has an output "${output}" (${existing}); asked for the key ${requested}. ` +
        'Start from the original export, or pass options.output to add the key under another name',
    )
    this.name = 'EmbeddingExistsError'
    this.output = output
  }
}

/** A key specification that is not one of the documented forms. */
export class InvalidKeySpecError extends ExportGraphError {
  constructor(message: string) {
    super('invalid-key', message)
    this.name = 'InvalidKeySpecError'
  }
}

export class KeyTensorNotFoundError extends ExportGraphError {
  readonly tensor: string
  constructor(tensor: string) {
    super('key-tensor-not-found', `no tensor named "${tensor}" in the graph (not a graph input, an initializer or a node output)`)
    this.name = 'KeyTensorNotFoundError'
    this.tensor = tensor
  }
}

/** The key's tensor has the wrong rank or type for its pooling, or its width cannot be known statically. */
export class KeyShapeError extends ExportGraphError {
  readonly tensor: string
  constructor(tensor: string, message: string) {
    super('key-shape', message)
    this.name = 'KeyShapeError'
    this.tensor = tensor
  }
}

export class MissingInputError extends ExportGraphError {
  readonly input: string
  constructor(input: string, purpose: string, inputs: string[]) {
    const found = inputs.length ? inputs.map((i) => `"${i}"`).join(', ') : 'none'
    super('missing-input', `${purpose} needs the graph input "${input}"; the graph's inputs are: ${found}`)
    this.name = 'MissingInputError'
    this.input = input
  }
}

/** A named key preset could not be matched to one tensor of this graph. */
export class KeyPresetError extends ExportGraphError {
  readonly preset: string
  /** Tensors the caller may name instead, e.g. rank-3 [batch, sequence, H] tensors for mean-last-hidden. */
  readonly candidates: string[]
  constructor(preset: string, reason: string, candidates: string[], hint: string) {
    const listed = candidates.length ? `; candidates: ${candidates.join(', ')}` : ''
    super('key-preset-unresolved', `cannot resolve the key preset "${preset}": ${reason}${listed}. ${hint}`)
    this.name = 'KeyPresetError'
    this.preset = preset
    this.candidates = candidates
  }
}
