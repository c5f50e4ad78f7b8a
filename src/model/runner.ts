import type { EncodedBatch } from '../tokenize/index.ts'

/**
 * The slice of the onnxruntime API this library uses. onnxruntime-node, onnxruntime-web (WASM or WebGPU)
 * and onnxruntime-web inside workerd all satisfy it; each edge passes its own module, so the core never
 * imports a runtime (and each runtime's Tensor class is the one its sessions accept).
 */
export interface OrtTensor {
  readonly data: unknown
  readonly dims: readonly number[]
}
export interface OrtSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>
  release?(): Promise<void>
}
export interface OrtRuntime {
  InferenceSession: { create(model: Uint8Array, options?: object): Promise<OrtSession> }
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => OrtTensor
}

export interface ModelOutputs {
  batch: number
  classes: number
  dim: number
  /** batch x classes, row-major. */
  logits: Float32Array
  /** batch x dim, row-major: the input of the final classifier layer. */
  embedding: Float32Array
}

export class ModelError extends Error {
  constructor(message: string) {
    super(`ONNX model: ${message}`)
    this.name = 'ModelError'
  }
}

export const EMBEDDING_OUTPUT = 'embedding'

/** Runs a ResMem-ready graph (outputs `logits` and `embedding`) on tokenized batches. */
export class ModelRunner {
  private constructor(
    private readonly ort: OrtRuntime,
    readonly session: OrtSession,
  ) {}

  static async create(ort: OrtRuntime, model: Uint8Array, options?: object): Promise<ModelRunner> {
    const session = await ort.InferenceSession.create(model, options)
    for (const name of ['logits', EMBEDDING_OUTPUT]) {
      if (!session.outputNames.includes(name)) {
        throw new ModelError(`graph has no "${name}" output (outputs: ${session.outputNames.join(', ')}); run \`resmem build\` to make it ResMem-ready`)
      }
    }
    if (!session.inputNames.includes('input_ids')) throw new ModelError(`graph has no "input_ids" input (inputs: ${session.inputNames.join(', ')})`)
    return new ModelRunner(ort, session)
  }

  async run(batch: EncodedBatch): Promise<ModelOutputs> {
    const dims = [batch.batch, batch.length]
    const feeds: Record<string, OrtTensor> = { input_ids: new this.ort.Tensor('int64', batch.inputIds, dims) }
    if (this.session.inputNames.includes('attention_mask')) feeds.attention_mask = new this.ort.Tensor('int64', batch.attentionMask, dims)
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new this.ort.Tensor('int64', new BigInt64Array(batch.inputIds.length), dims)
    const out = await this.session.run(feeds)
    const logits = out.logits
    const embedding = out[EMBEDDING_OUTPUT]
    if (!(logits.data instanceof Float32Array) || !(embedding.data instanceof Float32Array)) throw new ModelError('logits and embedding must be float32')
    return {
      batch: batch.batch,
      classes: logits.dims[logits.dims.length - 1],
      dim: embedding.dims[embedding.dims.length - 1],
      logits: logits.data,
      embedding: embedding.data,
    }
  }
}
