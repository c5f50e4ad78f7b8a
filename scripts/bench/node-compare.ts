/**
 * In one Node process: our library (k=0 and the default k) against a transformers.js text-classification
 * pipeline, one text per call, same texts, taking turns in a rotating order.
 *
 * Like with like: the same ONNX file (the bundle's onnx/model.onnx), the same runtime (onnxruntime-node,
 * one copy) with the same session options, the same truncation (256 tokens: manifest maxLength and
 * tokenizer_config model_max_length), batch 1, the time of the whole call (tokenize, run, post-process).
 * The check that they compute the same thing: top labels agree and, at temperature 1, our base score
 * equals the pipeline's softmax score.
 */
import type { Classification } from '../../src/types.ts'
import { loadClassifier } from '../../src/node/index.ts'
import { softmax } from '../../src/resmem/combine.ts'
import { loadPipeline, sessionOptions, type OrtThreads } from './node-classifiers.ts'
import { median, rotation, summarize, type LatencyStats } from './stats.ts'

export interface NodeCompareResult {
  /** onnxruntime-node threads, for both (node-classifiers.ts). */
  threads: OrtThreads
  texts: number
  /** Passes over the texts: each variant has texts x rounds samples. */
  rounds: number
  variants: Record<string, LatencyStats>
  /** Per text, against transformers.js: median of ours/theirs. */
  pairedRatioVsTransformers: Record<string, number>
  agreement: { labelsAgree: number; of: number; maxScoreDiffAtT1: number }
}

export const NODE_VARIANTS = ['resmem k=0', 'resmem', 'transformers.js'] as const

/** `k`: what the `resmem` variant searches (searched-k.ts), never 0. */
export async function compareNode(bundle: string, texts: readonly string[], threads: OrtThreads, k: number, rounds = 1, onCall?: () => void): Promise<NodeCompareResult> {
  const ours = await loadClassifier(bundle, { sessionOptions: sessionOptions(threads) })
  const theirs = await loadPipeline(bundle, threads)
  const calls: Record<(typeof NODE_VARIANTS)[number], (text: string) => Promise<unknown>> = {
    'resmem k=0': async (text) => (await ours.classify([text], { params: { k: 0 } }))[0],
    resmem: async (text) => (await ours.classify([text], { params: { k } }))[0],
    'transformers.js': (text) => theirs(text),
  }
  if (k < 1) throw new RangeError(`the resmem variant must search the memory, got k=${k}`)
  const searched = (await ours.classify([texts[0]], { params: { k }, explain: true }))[0].neighbors?.length ?? 0
  if (searched !== Math.min(k, ours.bundle.manifest.memory.rows) || searched === 0) throw new Error(`the resmem variant searched ${searched} neighbours, want k=${k}`)
  for (const text of texts.slice(0, 5)) for (const v of NODE_VARIANTS) await calls[v](text)

  const times = NODE_VARIANTS.map(() => [] as number[])
  let labelsAgree = 0
  const sequence = Array.from({ length: rounds }, () => texts).flat()
  for (const [i, text] of sequence.entries()) {
    const answers: unknown[] = []
    for (const j of rotation(i, NODE_VARIANTS.length)) {
      const t0 = performance.now()
      answers[j] = await calls[NODE_VARIANTS[j]](text)
      times[j].push(performance.now() - t0)
      onCall?.()
    }
    if (i < texts.length && (answers[0] as Classification).base.label === (answers[2] as { label: string }).label) labelsAgree++
  }

  // Not timed: the pipeline applies a plain softmax (T = 1, uncalibrated), so compare the raw logits' softmax.
  let maxScoreDiffAtT1 = 0
  for (const text of texts.slice(0, 20)) {
    const { outputs } = await ours.embed([text])
    const mine = softmax(outputs[0].logits.subarray(0, outputs[0].classes))
    const other = (await theirs(text)) as { label: string; score: number }
    maxScoreDiffAtT1 = Math.max(maxScoreDiffAtT1, Math.abs(mine[ours.labels.indexOf(other.label)] - other.score))
  }

  const ratio = (j: number) => median(times[j].map((t, i) => t / times[2][i]))
  return {
    threads,
    texts: texts.length,
    rounds,
    variants: Object.fromEntries(NODE_VARIANTS.map((v, j) => [v, summarize(times[j])])),
    pairedRatioVsTransformers: { 'resmem k=0': ratio(0), resmem: ratio(1) },
    agreement: { labelsAgree, of: texts.length, maxScoreDiffAtT1 },
  }
}
