/**
 * Seeded randomness for data preparation. Every shuffle in `prepare` goes through here, so the same seed
 * gives the same files byte for byte on every machine (Math.random would not).
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number

/**
 * mulberry32: a 32-bit state PRNG, tiny and fast. Not cryptographic, only reproducible.
 *
 * @example
 * const rand = mulberry32(42)
 * rand() // 0.6011037519201636, always
 */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher-Yates shuffle into a new array; the input is left as it was. */
export function shuffled<T>(items: readonly T[], rand: Random): T[] {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const tmp = out[i]
    out[i] = out[j]
    out[j] = tmp
  }
  return out
}
