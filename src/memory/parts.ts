/**
 * A memory in parts: a memory too big for one file (Workers Static Assets take files of 25 MiB at most) is
 * written as several, each a complete memory.bin (format.ts) holding the next rows in order, with the same
 * labels, key scale and model fingerprint. manifest.json lists them (`memory.parts`: file, rows, bytes,
 * SHA-256); a memory that fits one part is written as one `memory.bin` with no `parts`, as before parts existed.
 */
import { sha256Hex } from './checksum.ts'
import { memoryByteLength, writeMemory, type ResidualMemory } from './format.ts'
import type { Manifest, MemoryPart } from './manifest.ts'

/** Largest part: under the 25 MiB static-asset limit with room to spare. */
export const MAX_PART_BYTES = 24 * 1024 * 1024

/** A part and the memory row its first row is. */
export interface PlacedPart extends MemoryPart {
  first: number
}

/** The files of a manifest's memory in row order: its parts, or its one file for a bundle without parts. */
export function memoryParts(memory: Manifest['memory']): PlacedPart[] {
  const parts = memory.parts ?? [{ file: memory.file, rows: memory.rows, bytes: memory.bytes, sha256: memory.sha256 }]
  let first = 0
  return parts.map((p) => {
    const placed = { ...p, first }
    first += p.rows
    return placed
  })
}

/** Rows [first, end) of a memory, as views of its arrays (no copy). */
export function sliceMemory(m: ResidualMemory, first: number, end: number): ResidualMemory {
  const { dim } = m
  const classes = m.labels.length
  return {
    ...m,
    rows: end - first,
    keys: m.keys.dtype === 'int8' ? { ...m.keys, data: m.keys.data.subarray(first * dim, end * dim) } : { dtype: 'float32', data: m.keys.data.subarray(first * dim, end * dim) },
    rowLabels: m.rowLabels.subarray(first, end),
    residuals:
      m.residuals.dtype === 'int8'
        ? { dtype: 'int8', data: m.residuals.data.subarray(first * classes, end * classes), scales: m.residuals.scales.subarray(first, end) }
        : { dtype: 'float32', data: m.residuals.data.subarray(first * classes, end * classes) },
  }
}

/** The most rows one part of at most `maxBytes` holds. */
export function rowsPerPart(m: Pick<ResidualMemory, 'dim' | 'labels' | 'keys' | 'residuals'>, maxBytes: number): number {
  const size = (rows: number) => memoryByteLength(rows, m.dim, m.labels, m.keys.dtype, m.residuals.dtype)
  if (size(1) > maxBytes) throw new RangeError(`a part of ${maxBytes} bytes cannot hold one row (${size(1)} bytes)`)
  let lo = 1
  let hi = Math.max(1, Math.floor(maxBytes / Math.max(1, m.dim)))
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (size(mid) <= maxBytes) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** The name of part `i` of `count`. */
export function partFile(i: number, count: number): string {
  return count === 1 ? 'memory.bin' : `memory.part-${String(i).padStart(3, '0')}.bin`
}

export interface WrittenMemory {
  /** File name -> bytes, to write beside manifest.json. */
  files: Record<string, Uint8Array>
  /** For manifest.json `memory`: the whole memory's identity and, when split, its parts. */
  manifest: { file: string; sha256: string; bytes: number; parts?: MemoryPart[] }
}

/**
 * Serialises a memory as parts of at most `maxPartBytes` (one `memory.bin` when it fits). Deterministic.
 * @example
 * const { files, manifest } = await writeMemoryParts(memory)
 */
export async function writeMemoryParts(memory: ResidualMemory, maxPartBytes = MAX_PART_BYTES): Promise<WrittenMemory> {
  const whole = await writeMemory(memory)
  const wholeSha = await sha256Hex(whole)
  if (whole.length <= maxPartBytes) return { files: { 'memory.bin': whole }, manifest: { file: 'memory.bin', sha256: wholeSha, bytes: whole.length } }
  const per = rowsPerPart(memory, maxPartBytes)
  const count = Math.ceil(memory.rows / per)
  const files: Record<string, Uint8Array> = {}
  const parts: MemoryPart[] = []
  for (let i = 0; i < count; i++) {
    const first = i * per
    const end = Math.min(memory.rows, first + per)
    const bytes = await writeMemory(sliceMemory(memory, first, end))
    const file = partFile(i, count)
    files[file] = bytes
    parts.push({ file, rows: end - first, bytes: bytes.length, sha256: await sha256Hex(bytes) })
  }
  return { files, manifest: { file: 'memory.bin', sha256: wholeSha, bytes: whole.length, parts } }
}
