/**
 * Fits the manifest's `locality` (radius, novelty threshold) and `conformal` (LAC nonconformities) on val,
 * against the memory built from train (before any folded edits), with the answers the build serves.
 * Test data is never read here.
 */
import { labelScores } from '../../src/classifier.ts'
import type { ResidualMemory } from '../../src/memory/format.ts'
import type { Calibration, Conformal, Locality } from '../../src/memory/manifest.ts'
import { servedScores } from '../../src/resmem/calibrate.ts'
import { DEFAULT_ALPHA, nonconformity, storedNonconformities } from '../../src/resmem/conformal.ts'
import { fitNoveltyThreshold, novelty } from '../../src/resmem/novelty.ts'
import { MemorySearch } from '../../src/resmem/search.ts'
import type { EmbeddedSplit } from './embed.ts'
import type { TuneInput } from './tune.ts'

/** Share of val texts that must come out familiar. */
export const FAMILIAR = 0.95
export const RADIUS_RULE = 'the largest cosine distance from a val text to its nearest training row: every in-distribution text seen has a row within it'

export interface LocalityFit {
  locality: Locality
  conformal: Conformal
  /** Per val text: cosine distance to its nearest training row (for eval and docs). */
  novelties: Float64Array
}

const up = (v: number) => Math.ceil(v * 1e6) / 1e6

/** `params.k`: the served k (0 when the build turned the memory off). */
export async function fitLocality(memory: ResidualMemory, val: EmbeddedSplit, labels: readonly string[], params: { k: number; sigma: number; temperature: number }, calibration: Calibration | undefined, createIndex?: TuneInput['createIndex']): Promise<LocalityFit> {
  const index = memory.keys.dtype === 'int8' && createIndex ? createIndex(memory.keys.data, memory.rows, memory.dim) : undefined
  const search = MemorySearch.of(memory, index)
  const c = val.classes
  const row = (i: number) => ({ logits: val.logits.subarray(i * c, (i + 1) * c), key: val.embeddings.subarray(i * val.dim, (i + 1) * val.dim) })
  const novelties = new Float64Array(val.rows)
  for (let i = 0; i < val.rows; i++) novelties[i] = novelty(await search.neighbors(row(i).key, 1))
  const radius = up(Math.max(...novelties))
  const rule = { searchK: Math.max(1, params.k), builtK: params.k, radius, isLearned: () => false }
  const scores = new Float64Array(val.rows)
  for (let i = 0; i < val.rows; i++) {
    const { logits, key } = row(i)
    const d = await search.decide(logits, key, params, rule)
    const served = labelScores(labels, servedScores(d, calibration).scores)
    scores[i] = nonconformity(served.find((s) => s.label === labels[val.labels[i]])!.score)
  }
  return {
    locality: { split: 'val', distance: 'cosine', radius, rule: RADIUS_RULE, novelty: { threshold: up(fitNoveltyThreshold(novelties, FAMILIAR)), familiar: FAMILIAR } },
    conformal: { split: 'val', score: 'lac', alpha: DEFAULT_ALPHA, nonconformity: storedNonconformities(scores) },
    novelties,
  }
}
