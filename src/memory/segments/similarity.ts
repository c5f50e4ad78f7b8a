/**
 * Cosine similarity from an int8 dot product: query and key are unit vectors quantized with scales qScale
 * and keyScale. Rounding can put it a hair outside [-1, 1], hence the clamp; float32, as similarities have
 * always been reported and weighted.
 */
export function int8Similarity(dot: number, qScale: number, keyScale: number): number {
  return Math.fround(Math.max(-1, Math.min(1, dot * qScale * keyScale)))
}
