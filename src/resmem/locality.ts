/**
 * Locality: which of the k nearest rows count for a text. A row counts only within `radius` (cosine
 * distance 1 - similarity, the manifest's `locality.radius`), so a row moves the texts near it and no others.
 *
 * - Learned rows (edits, and edits a build folded in) come first: when one lies within the radius, the nearest
 *   alone answers, p = base(x) + r_j, whatever the built rows around it say. A learned text classified again
 *   gets p = onehot(taught label) (up to int8 rounding); of equally near learned rows the latest wins, so
 *   teaching a text again with another label replaces its answer.
 * - Otherwise, when the built memory is served, its rows within the radius among the k nearest count, with the
 *   ResMem weights; with none there (or the built memory off), the base model answers alone, bit for bit.
 */
import type { Hit } from '../memory/segments/types.ts'

export interface LocalityRule {
  /** Largest cosine distance at which a row counts (Infinity: no radius, as bundles built before it). */
  radius: number
  /** How many of the nearest built rows count (0: the built memory is off). */
  builtK: number
  /** Whether a hit is a learned row (an edit, or an edit folded into memory.bin). */
  isLearned: (hit: Hit) => boolean
}

export interface LocalNeighbors {
  neighbors: Hit[]
  /** 'learned': the nearest learned row answers; 'built': built rows; 'base': none counts. */
  from: 'learned' | 'built' | 'base'
}

/** Cosine distance of a hit, the unit of `radius` and of novelty. */
export function cosineDistance(hit: Hit): number {
  return 1 - hit.similarity
}

/** The rows of `hits` (best first) that count for the text under `rule`. */
export function localNeighbors(hits: readonly Hit[], rule: LocalityRule): LocalNeighbors {
  let learned: Hit | undefined
  for (const h of hits) {
    if (cosineDistance(h) > rule.radius || !rule.isLearned(h)) continue
    // Ties on score: hits come in ascending order, and the later (newer) learned row wins.
    if (!learned || h.score > learned.score || (h.score === learned.score && h.order > learned.order)) learned = h
  }
  if (learned) return { neighbors: [learned], from: 'learned' }
  const built = hits.slice(0, rule.builtK).filter((h) => !rule.isLearned(h) && cosineDistance(h) <= rule.radius)
  return built.length ? { neighbors: built, from: 'built' } : { neighbors: [], from: 'base' }
}
