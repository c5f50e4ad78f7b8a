/**
 * What a bench row labelled ResMem searches: the memory at the served k, or at the tuned k when the build
 * turned the memory off (served k 0), or at a k the caller states. Never 0: a row that searches nothing is
 * the base model under another name. `expectSearch` checks it against the running server before timing.
 */
import type { Manifest } from '../../src/memory/manifest.ts'

export interface SearchedK {
  k: number
  /** Where k came from: stated by the caller, the manifest's served k, or the build's tuned k (memory off). */
  from: 'stated' | 'served' | 'tuned'
}

/**
 * @example
 * const { k } = searchedK(manifest) // served k, else the tuned k
 * interleavedLatency(url, texts, [{ name: 'base', path: '/v1/classify?k=0' }, { name: 'resmem', path: resmemPath(k) }])
 */
export function searchedK(manifest: Pick<Manifest, 'resmem' | 'tuning'>, stated?: number): SearchedK {
  if (stated !== undefined) {
    if (!Number.isInteger(stated) || stated < 1) throw new RangeError(`a ResMem bench row must search at least 1 neighbour, got k=${stated}`)
    return { k: stated, from: 'stated' }
  }
  if (manifest.resmem.k > 0) return { k: manifest.resmem.k, from: 'served' }
  if (manifest.tuning.best.k > 0) return { k: manifest.tuning.best.k, from: 'tuned' }
  throw new RangeError('the manifest serves k=0 and its tuned k is 0: state a k for the ResMem rows')
}

/** The classify path of a ResMem row: k always explicit, so the memory's on/off decision cannot silence it. */
export const resmemPath = (k: number, extra = ''): string => `/v1/classify?k=${k}${extra}`

/**
 * Throws unless POST `resmemPath(k)` with `?explain=1` answers `min(k, rows)` neighbours for `text`: the
 * server really searches what the row is named after.
 */
export async function expectSearch(url: URL, text: string, k: number, rows: number, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(new URL(resmemPath(k, '&explain=1'), url), { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ text }) })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`POST ${resmemPath(k, '&explain=1')}: HTTP ${res.status} ${body.slice(0, 200)}`)
  const got = ((JSON.parse(body) as { neighbors?: unknown[] }).neighbors ?? []).length
  const want = Math.min(k, rows)
  if (got !== want || want === 0) throw new Error(`POST ${resmemPath(k)} searched ${got} neighbours, want ${want} (k=${k}, ${rows} memory rows): the ResMem row would measure no search`)
}
