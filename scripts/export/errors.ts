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
