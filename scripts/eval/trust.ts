/**
 * Answers you can trust, measured on a served bundle (the Node library, as users call it): out-of-distribution
 * detection by `novelty` against max-softmax and energy scores, and the coverage of the conformal sets `set`.
 *
 * Detection follows the OOD literature (Sun et al. 2022): in-distribution texts are the positives; FPR at 95% TPR
 * is the share of out-of-distribution texts that a threshold keeping 95% of the in-distribution ones lets through.
 */
import type { ResMemClassifier } from '../../src/classifier.ts'
import { CliError } from '../cli/errors.ts'
import { conformalQuantile, predictionSet } from '../../src/resmem/conformal.ts'
import type { LabelScore } from '../../src/types.ts'
import type { LabelledExample } from '../data/index.ts'

export type OodScore = 'novelty' | 'max-softmax' | 'energy'

export interface OodRow {
  /** The out-of-distribution set. */
  out: string
  score: OodScore
  /** P(score(out) > score(in)), ties counted half: 1 separates perfectly, 0.5 is chance. */
  auroc: number
  /** Share of out texts at or under the 95th percentile of the in texts' scores. */
  fpr95: number
  /** novelty only: share of out texts the answers call `unfamiliar`, and of in texts. */
  flagged?: number
  inFlagged?: number
  inCount: number
  outCount: number
}

export interface CoverageRow {
  alpha: number
  /** A label, or "all". */
  label: string
  /** Share of test texts whose set holds their label. */
  coverage: number
  meanSetSize: number
  count: number
}

export interface TrustResult {
  ood: OodRow[]
  coverage: CoverageRow[]
  /** Novelty of every text, for the report's histograms. */
  novelty: { set: string; values: number[] }[]
}

/** AUROC of `pos` above `neg` (Mann-Whitney U / (m n)). */
export function auroc(neg: readonly number[], pos: readonly number[]): number {
  const all = [...neg.map((v) => ({ v, pos: false })), ...pos.map((v) => ({ v, pos: true }))].sort((a, b) => a.v - b.v)
  let rankSum = 0
  for (let i = 0; i < all.length; ) {
    let j = i
    while (j < all.length && all[j].v === all[i].v) j++
    const mid = (i + j + 1) / 2 // average 1-based rank of the tie group
    for (let t = i; t < j; t++) if (all[t].pos) rankSum += mid
    i = j
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length)
}

/** Share of `out` at or under the score that keeps 95% of `inScores` (higher: more out of distribution). */
export function fprAt95(inScores: readonly number[], out: readonly number[]): number {
  const sorted = [...inScores].sort((a, b) => a - b)
  const threshold = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]
  return out.filter((v) => v <= threshold).length / out.length
}

interface Scored {
  novelty: number[]
  unfamiliar: boolean[]
  maxSoftmax: number[]
  energy: number[]
  scores: LabelScore[][]
}

async function score(classifier: ResMemClassifier, texts: readonly string[]): Promise<Scored> {
  const answers = await classifier.classify(texts)
  const { outputs } = await classifier.embed(texts)
  const energy: number[] = []
  for (const o of outputs) {
    for (let b = 0; b < o.batch; b++) {
      const z = o.logits.subarray(b * o.classes, (b + 1) * o.classes)
      const max = Math.max(...z)
      // Energy E(x) = -logsumexp(z) (Liu et al. 2020): higher is more out of distribution.
      energy.push(-(max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0))))
    }
  }
  return {
    novelty: answers.map((a) => a.novelty ?? NaN),
    unfamiliar: answers.map((a) => a.unfamiliar ?? false),
    // Lower max-softmax is more out of distribution: negated so that higher means "out" for every score.
    maxSoftmax: answers.map((a) => -(a.score ?? 0)),
    energy,
    scores: answers.map((a) => a.scores),
  }
}

/** OOD rows of `test` (in) against each out set, and conformal coverage on `test` at each alpha. */
export async function evaluateTrust(classifier: ResMemClassifier, test: readonly LabelledExample[], outs: readonly { name: string; texts: readonly string[] }[], alphas: readonly number[] = [0.1, 0.05]): Promise<TrustResult> {
  const inScored = await score(classifier, test.map((e) => e.text))
  const ood: OodRow[] = []
  const novelty = [{ set: 'test', values: inScored.novelty }]
  for (const out of outs) {
    const s = await score(classifier, out.texts)
    novelty.push({ set: out.name, values: s.novelty })
    const row = (name: OodScore, a: number[], b: number[]): OodRow => ({ out: out.name, score: name, auroc: auroc(a, b), fpr95: fprAt95(a, b), inCount: a.length, outCount: b.length })
    ood.push(
      { ...row('novelty', inScored.novelty, s.novelty), flagged: s.unfamiliar.filter(Boolean).length / s.unfamiliar.length, inFlagged: inScored.unfamiliar.filter(Boolean).length / inScored.unfamiliar.length },
      row('max-softmax', inScored.maxSoftmax, s.maxSoftmax),
      row('energy', inScored.energy, s.energy),
    )
  }
  const coverage: CoverageRow[] = []
  const conformal = classifier.bundle.manifest.conformal
  for (const alpha of alphas) {
    if (!conformal) break
    // The served scores of the same answers, with this alpha's quantile (what classify({alpha}) answers).
    const q = conformalQuantile(conformal.nonconformity, alpha)
    const sets = inScored.scores.map((s) => predictionSet(s, q))
    const rows = (label: string, idx: number[]) => ({
      alpha,
      label,
      coverage: idx.filter((i) => sets[i].includes(test[i].label)).length / idx.length,
      meanSetSize: idx.reduce((s, i) => s + sets[i].length, 0) / idx.length,
      count: idx.length,
    })
    const all = test.map((_, i) => i)
    coverage.push(rows('all', all))
    for (const label of classifier.labels) {
      const idx = all.filter((i) => test[i].label === label)
      if (idx.length) coverage.push(rows(label, idx))
    }
  }
  return { ood, coverage, novelty }
}

/** The texts of an OOD file: JSONL with a string field "text" per line (labels, if any, are not read). */
export async function readOodTexts(file: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises')
  let content: string
  try {
    content = await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(`--ood ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  const texts: string[] = []
  for (const [i, line] of content.split('\n').entries()) {
    if (!line.trim()) continue
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch {
      throw new CliError(`--ood ${file}: line ${i + 1}: not valid JSON`)
    }
    const text = (row as { text?: unknown })?.text
    if (typeof text !== 'string' || !text.trim()) throw new CliError(`--ood ${file}: line ${i + 1}: field "text": expected a non-empty string`)
    texts.push(text)
  }
  if (!texts.length) throw new CliError(`--ood ${file}: no texts`)
  return texts
}
