/**
 * Reads a bundle's memory from its parts (src/memory/parts.ts), or from its one memory.bin: every part is
 * fetched at once, checked against the SHA-256 manifest.json lists (the one hash of each byte: the part's own
 * trailing checksum is then implied), and its rows copied straight to where they are kept (`keysInto`: the
 * k-NN kernel's memory), so the fetched bytes can go as soon as each part is read. A shard reads only its rows.
 */
import { sha256Hex } from '../memory/checksum.ts'
import { MemoryFormatError, readMemory, readMemoryHeader, type ResidualMemory } from '../memory/format.ts'
import type { Manifest } from '../memory/manifest.ts'
import { memoryParts } from '../memory/parts.ts'
import { ArtifactError, type FileSource } from './source.ts'

export interface ReadMemoryRowsOptions {
  /** Rows [first, end) of the memory; all of them when omitted. */
  first?: number
  end?: number
  /** Storage for the int8 keys of those rows (called once, before the first part is copied); fresh arrays otherwise. */
  keysInto?: (rows: number, dim: number) => Int8Array
}

/** What the memory's files must agree on, one with another. */
const identity = (m: ResidualMemory) => JSON.stringify([m.labels, m.modelFingerprint, m.keys.dtype, m.keys.dtype === 'int8' ? m.keys.scale : 1, m.residuals.dtype])

/**
 * @example
 * const memory = await readMemoryRows(source, manifest) // the whole memory, every part verified
 */
export async function readMemoryRows(read: FileSource, manifest: Manifest, options: ReadMemoryRowsOptions = {}): Promise<ResidualMemory> {
  const { rows: total, dim } = manifest.memory
  const parts = memoryParts(manifest.memory)
  const listed = parts.reduce((n, p) => n + p.rows, 0)
  if (listed !== total) throw new ArtifactError('corrupt', `manifest.json: memory.parts hold ${listed} rows, memory.rows says ${total}`)
  const first = options.first ?? 0
  const end = options.end ?? total
  if (!(Number.isInteger(first) && Number.isInteger(end) && 0 <= first && first <= end && end <= total)) throw new RangeError(`rows [${first}, ${end}) are not rows of a ${total}-row memory`)
  const wanted = parts.filter((p) => p.first < end && p.first + p.rows > first)
  // memory.bin's residuals span the model's labels and those that live in the memory.
  const servedLabels = [...manifest.labels, ...(manifest.memoryLabels ?? [])]
  const classes = servedLabels.length

  let keys: Int8Array | undefined
  const pieces = await Promise.all(
    wanted.map(async (part) => {
      let bytes: Uint8Array | undefined = await read(part.file)
      const lo = Math.max(first, part.first)
      const hi = Math.min(end, part.first + part.rows)
      try {
        const sha = await sha256Hex(bytes)
        if (sha !== part.sha256) {
          // Say what is wrong with the file when it is broken in itself (cut short, bad checksum), else that it is another one.
          await readMemory(bytes)
          throw new ArtifactError(parts.length > 1 ? 'corrupt' : 'model_mismatch', `${part.file}: SHA-256 ${sha.slice(0, 12)}… is not the ${part.sha256.slice(0, 12)}… the manifest lists`)
        }
        const header = readMemoryHeader(bytes)
        if (header.rows !== part.rows || header.dim !== dim) {
          throw new ArtifactError('corrupt', `${part.file}: ${header.rows} rows x ${header.dim}, the manifest lists ${part.rows} rows x ${dim}`)
        }
        if (header.keyDtype === 'int8') keys ??= options.keysInto ? options.keysInto(end - first, dim) : new Int8Array((end - first) * dim)
        const into = header.keyDtype === 'int8' ? keys!.subarray((lo - first) * dim, (hi - first) * dim) : undefined
        const piece = await readMemory(bytes, { verified: true, first: lo - part.first, end: hi - part.first, keysInto: into })
        return { file: part.file, piece }
      } catch (err) {
        if (err instanceof MemoryFormatError) throw new ArtifactError('corrupt', `${part.file}: ${err.message.replace(/^memory\.bin: /, '')}`)
        throw err
      } finally {
        bytes = undefined
      }
    }),
  )
  if (pieces.length === 0) {
    // No rows asked for: the memory's shape from the manifest (a worker whose memory lives in shards).
    const int8 = manifest.memory.quantization.keys.startsWith('int8')
    return {
      rows: 0,
      dim,
      labels: servedLabels,
      keys: int8 ? { dtype: 'int8', data: new Int8Array(0), scale: manifest.memory.quantization.keyScale } : { dtype: 'float32', data: new Float32Array(0) },
      rowLabels: new Uint32Array(0),
      residuals: manifest.memory.quantization.residuals.startsWith('int8') ? { dtype: 'int8', data: new Int8Array(0), scales: new Float32Array(0) } : { dtype: 'float32', data: new Float32Array(0) },
      modelFingerprint: manifest.model.sha256,
    }
  }
  const [head] = pieces
  for (const { file, piece } of pieces) {
    if (identity(piece) !== identity(head.piece)) throw new ArtifactError('corrupt', `${file}: labels, model, dtypes or key scale differ from ${head.file}`)
  }
  if (pieces.length === 1) return head.piece
  const rows = end - first
  const m = head.piece
  const concat = <T extends Uint32Array | Float32Array | Int8Array>(make: (n: number) => T, of: (p: ResidualMemory) => T, width: number): T => {
    const out = make(rows * width)
    let at = 0
    for (const { piece } of pieces) {
      out.set(of(piece) as never, at)
      at += piece.rows * width
    }
    return out
  }
  const rowLabels = concat((n) => new Uint32Array(n), (p) => p.rowLabels, 1)
  const residuals: ResidualMemory['residuals'] =
    m.residuals.dtype === 'int8'
      ? {
          dtype: 'int8',
          data: concat((n) => new Int8Array(n), (p) => p.residuals.data as Int8Array, classes),
          scales: concat((n) => new Float32Array(n), (p) => (p.residuals as { scales: Float32Array }).scales, 1),
        }
      : { dtype: 'float32', data: concat((n) => new Float32Array(n), (p) => p.residuals.data as Float32Array, classes) }
  const memoryKeys: ResidualMemory['keys'] =
    m.keys.dtype === 'int8' ? { dtype: 'int8', data: keys!, scale: m.keys.scale } : { dtype: 'float32', data: concat((n) => new Float32Array(n), (p) => p.keys.data as Float32Array, dim) }
  return { rows, dim, labels: m.labels, keys: memoryKeys, rowLabels, residuals, modelFingerprint: m.modelFingerprint }
}
