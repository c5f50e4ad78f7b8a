/** The parts of a Hugging Face config.json that ResMem needs, validated. */
export interface ModelConfig {
  modelType: string
  /** Class names by id (from id2label). */
  labels: string[]
  /** Maximum tokens per text. */
  maxLength: number
}

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(`config.json: ${message}`)
    this.name = 'ModelConfigError'
  }
}

/** Reads id2label (ids 0..n-1, each once) and the maximum length from config.json and tokenizer_config.json. */
export function parseModelConfig(config: unknown, tokenizerConfig: unknown = {}): ModelConfig {
  if (typeof config !== 'object' || config === null) throw new ModelConfigError('not a JSON object')
  const c = config as Record<string, unknown>
  const id2label = c.id2label
  if (typeof id2label !== 'object' || id2label === null) throw new ModelConfigError('field "id2label" is missing (a classifier config maps class ids to labels)')
  const entries = Object.entries(id2label as Record<string, unknown>)
  const labels: string[] = new Array(entries.length)
  for (const [id, label] of entries) {
    const i = Number(id)
    if (!Number.isInteger(i) || i < 0 || i >= entries.length) throw new ModelConfigError(`field "id2label": id "${id}" is not in 0..${entries.length - 1}`)
    if (typeof label !== 'string' || label === '') throw new ModelConfigError(`field "id2label": label of id ${id} is not a non-empty string`)
    labels[i] = label
  }
  if (labels.length < 2) throw new ModelConfigError('field "id2label": a classifier needs at least two labels')
  if (new Set(labels).size !== labels.length) throw new ModelConfigError('field "id2label": labels must be distinct')

  const t = (typeof tokenizerConfig === 'object' && tokenizerConfig !== null ? tokenizerConfig : {}) as Record<string, unknown>
  const candidates = [c.max_position_embeddings, t.model_max_length].filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x > 1 && x < 1e6)
  if (candidates.length === 0) throw new ModelConfigError('no maximum length: set "max_position_embeddings" (or model_max_length in tokenizer_config.json)')
  return { modelType: typeof c.model_type === 'string' ? c.model_type : 'unknown', labels, maxLength: Math.min(...candidates) }
}
