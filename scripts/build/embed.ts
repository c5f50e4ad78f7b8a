import type { MemoryExamples } from '../../src/memory/build.ts'
import type { ModelRunner } from '../../src/model/runner.ts'
import type { TextTokenizer } from '../../src/tokenize/index.ts'
import { CliError } from '../cli/errors.ts'
import { progress } from '../cli/progress.ts'
import type { LabelledExample } from '../data/index.ts'

/** Model outputs for a labelled split: what the memory stores and what tuning and eval score. */
export interface EmbeddedSplit extends MemoryExamples {
  classes: number
  truncated: number
}

/** Class ids of the examples' labels; a label the model does not know is an error naming the file. */
export function labelIds(examples: readonly LabelledExample[], labels: readonly string[], file: string): Uint32Array {
  const index = new Map(labels.map((l, i) => [l, i]))
  return Uint32Array.from(examples, (e, i) => {
    const id = index.get(e.label)
    if (id === undefined) throw new CliError(`${file}: example ${i + 1}: field "label": "${e.label}" is not a label of the model (labels: ${labels.join(', ')})`)
    return id
  })
}

/**
 * Runs the model over a split in batches, with a progress bar. Texts are sorted by length inside the job so
 * each batch pads little; outputs come back in the input order.
 */
export async function embedSplit(
  name: string,
  examples: readonly LabelledExample[],
  labels: Uint32Array,
  tokenizer: TextTokenizer,
  runner: ModelRunner,
  batchSize = 32,
): Promise<EmbeddedSplit> {
  const n = examples.length
  const lengths = examples.map((e) => Math.min(tokenizer.ids(e.text).length, tokenizer.maxLength))
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b)
  let logits: Float32Array | undefined
  let embeddings: Float32Array | undefined
  let classes = 0
  let dim = 0
  let truncated = 0
  const bar = progress(`embed ${name}`, n)
  for (let start = 0; start < n; start += batchSize) {
    const ids = order.slice(start, start + batchSize)
    const batch = tokenizer.encodeBatch(ids.map((i) => examples[i].text))
    const out = await runner.run(batch)
    if (!logits || !embeddings) {
      classes = out.classes
      dim = out.dim
      logits = new Float32Array(n * classes)
      embeddings = new Float32Array(n * dim)
    }
    ids.forEach((row, b) => {
      logits!.set(out.logits.subarray(b * classes, (b + 1) * classes), row * classes)
      embeddings!.set(out.embedding.subarray(b * dim, (b + 1) * dim), row * dim)
    })
    truncated += batch.truncated.filter(Boolean).length
    bar.increment(ids.length)
  }
  bar.stop()
  return { rows: n, dim, classes, logits: logits ?? new Float32Array(0), embeddings: embeddings ?? new Float32Array(0), labels, truncated }
}
