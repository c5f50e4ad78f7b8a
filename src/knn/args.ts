/** Argument checks shared by every k-NN kernel, so they all fail the same way on the same input. */

/**
 * Largest supported key dimension. A dot of d int8 pairs is at most 16384*d in magnitude; it has to
 * stay exact in int32 (the wasm accumulator), which holds up to d = 131071.
 */
export const MAX_DIM = 65536

export function checkKeys(keys: ArrayLike<number>, rows: number, dim: number): void {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`)
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) throw new RangeError(`dim must be an integer in 1..${MAX_DIM}, got ${dim}`)
  if (keys.length !== rows * dim) {
    throw new RangeError(`keys has ${keys.length} values, expected rows*dim = ${rows}*${dim} = ${rows * dim}`)
  }
}

export function checkQuery(query: ArrayLike<number>, dim: number, k: number): void {
  if (query.length !== dim) throw new RangeError(`query has ${query.length} values, the index has dim ${dim}`)
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be an integer >= 1, got ${k}`)
}
