/**
 * memory.bin: the versioned binary of a ResMem residual memory. This module both writes and reads it.
 *
 * Layout (little-endian; sections start on 8-byte boundaries so typed arrays can view them in place):
 *
 *   offset  size        field
 *   0       4           magic "RMEM"
 *   4       2           format version (u16) = 1
 *   6       1           key dtype        (1 = int8, 2 = float32)
 *   7       1           residual dtype   (1 = int8, 2 = float32)
 *   8       4           rows n (u32)
 *   12      4           key dimension d (u32)
 *   16      4           label count c (u32)
 *   20      4           byte length L of the labels JSON (u32)
 *   24      4           key scale (f32; 1 for float32 keys): key ~= scale * q
 *   28      4           reserved, 0
 *   32      32          model fingerprint: SHA-256 of the ONNX model the keys came from
 *   64      L           labels: UTF-8 JSON array of c distinct strings, index = class id
 *   ..      n*d*size    keys, row-major (pad to 8)
 *   ..      4n          row label ids (u32)
 *   ..      4n          residual scales (f32), int8 residuals only: r ~= scale_i * q
 *   ..      n*c*size    residuals r_i = onehot(y_i) - softmax(z_i / T), row-major (pad to 8)
 *   end-32  32          SHA-256 of every byte before it
 *
 * Typed arrays are copied as raw bytes: every runtime this ships to (x86, ARM in workerd, browsers, Node) is
 * little-endian, and the reader checks the checksum, so a big-endian host would fail loudly, not silently.
 * The quantization scheme and its error bounds are in quantize.ts.
 */
import { sha256, toHex, equalBytes } from './checksum.ts'
import { CodedError } from '../errors.ts'

export const MEMORY_MAGIC = 'RMEM'
export const MEMORY_VERSION = 1
const HEADER_BYTES = 64
const CHECKSUM_BYTES = 32

export type Dtype = 'int8' | 'float32'
const DTYPE_CODE: Record<Dtype, number> = { int8: 1, float32: 2 }
const DTYPE_SIZE: Record<Dtype, number> = { int8: 1, float32: 4 }

export type MemoryKeys = { dtype: 'int8'; data: Int8Array; scale: number } | { dtype: 'float32'; data: Float32Array }
export type MemoryResiduals = { dtype: 'int8'; data: Int8Array; scales: Float32Array } | { dtype: 'float32'; data: Float32Array }

export interface ResidualMemory {
  rows: number
  dim: number
  labels: string[]
  keys: MemoryKeys
  /** Class id of each memorized example (for explanations). */
  rowLabels: Uint32Array
  residuals: MemoryResiduals
  /** Hex SHA-256 of the model file the keys and residuals were computed with. */
  modelFingerprint: string
}

export type MemoryErrorCode = 'truncated' | 'bad_magic' | 'unsupported_version' | 'checksum_mismatch' | 'corrupt'

/** A memory.bin that cannot be used. `code` is stable for callers (HTTP answers, tests). */
export class MemoryFormatError extends CodedError<MemoryErrorCode> {
  override readonly name = 'MemoryFormatError'
  constructor(code: MemoryErrorCode, message: string) {
    super(code, `memory.bin: ${message}`)
  }
}

const pad8 = (n: number) => (n + 7) & ~7

interface Sections {
  labels: number
  keys: number
  rowLabels: number
  residualScales: number
  residuals: number
  checksum: number
}

function sections(rows: number, dim: number, classes: number, labelBytes: number, keyDtype: Dtype, resDtype: Dtype): Sections {
  const labels = HEADER_BYTES
  const keys = pad8(labels + labelBytes)
  const rowLabels = pad8(keys + rows * dim * DTYPE_SIZE[keyDtype])
  const residualScales = rowLabels + 4 * rows
  const residuals = residualScales + (resDtype === 'int8' ? 4 * rows : 0)
  const checksum = pad8(residuals + rows * classes * DTYPE_SIZE[resDtype])
  return { labels, keys, rowLabels, residualScales, residuals, checksum }
}

function fromHex(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TypeError(`model fingerprint must be 64 hex digits, got "${hex}"`)
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

function checkShape(m: ResidualMemory): void {
  const { rows, dim, labels } = m
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(dim) || dim < 1) throw new RangeError(`bad memory shape ${rows}x${dim}`)
  if (labels.length < 2 || new Set(labels).size !== labels.length) throw new RangeError('labels must be at least two distinct strings')
  if (m.keys.data.length !== rows * dim) throw new RangeError(`keys: expected ${rows * dim} values, got ${m.keys.data.length}`)
  if (m.residuals.data.length !== rows * labels.length) throw new RangeError(`residuals: expected ${rows * labels.length} values, got ${m.residuals.data.length}`)
  if (m.rowLabels.length !== rows) throw new RangeError(`row labels: expected ${rows}, got ${m.rowLabels.length}`)
  if (m.residuals.dtype === 'int8' && m.residuals.scales.length !== rows) throw new RangeError('residual scales: one per row')
}

/** Serialise a memory. Deterministic: the same memory gives the same bytes. */
export async function writeMemory(m: ResidualMemory): Promise<Uint8Array> {
  checkShape(m)
  const labelBytes = new TextEncoder().encode(JSON.stringify(m.labels))
  const s = sections(m.rows, m.dim, m.labels.length, labelBytes.length, m.keys.dtype, m.residuals.dtype)
  const out = new Uint8Array(s.checksum + CHECKSUM_BYTES)
  const view = new DataView(out.buffer)
  out.set(new TextEncoder().encode(MEMORY_MAGIC), 0)
  view.setUint16(4, MEMORY_VERSION, true)
  view.setUint8(6, DTYPE_CODE[m.keys.dtype])
  view.setUint8(7, DTYPE_CODE[m.residuals.dtype])
  view.setUint32(8, m.rows, true)
  view.setUint32(12, m.dim, true)
  view.setUint32(16, m.labels.length, true)
  view.setUint32(20, labelBytes.length, true)
  view.setFloat32(24, m.keys.dtype === 'int8' ? m.keys.scale : 1, true)
  out.set(fromHex(m.modelFingerprint), 32)
  out.set(labelBytes, s.labels)
  out.set(new Uint8Array(m.keys.data.buffer, m.keys.data.byteOffset, m.keys.data.byteLength), s.keys)
  for (let i = 0; i < m.rows; i++) view.setUint32(s.rowLabels + 4 * i, m.rowLabels[i], true)
  if (m.residuals.dtype === 'int8') for (let i = 0; i < m.rows; i++) view.setFloat32(s.residualScales + 4 * i, m.residuals.scales[i], true)
  out.set(new Uint8Array(m.residuals.data.buffer, m.residuals.data.byteOffset, m.residuals.data.byteLength), s.residuals)
  out.set(await sha256(out.subarray(0, s.checksum)), s.checksum)
  return out
}

/** Header fields, readable without verifying the whole file (for manifests and error messages). */
export interface MemoryHeader {
  version: number
  rows: number
  dim: number
  classes: number
  keyDtype: Dtype
  residualDtype: Dtype
  keyScale: number
  modelFingerprint: string
  byteLength: number
}

function dtypeOf(code: number, what: string): Dtype {
  if (code === 1) return 'int8'
  if (code === 2) return 'float32'
  throw new MemoryFormatError('corrupt', `unknown ${what} dtype code ${code}`)
}

export function readMemoryHeader(bytes: Uint8Array): MemoryHeader {
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) throw new MemoryFormatError('truncated', `${bytes.length} bytes is shorter than the smallest valid file`)
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3])
  if (magic !== MEMORY_MAGIC) throw new MemoryFormatError('bad_magic', `not a ResMem memory file (magic "${magic}", expected "${MEMORY_MAGIC}")`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint16(4, true)
  if (version !== MEMORY_VERSION) throw new MemoryFormatError('unsupported_version', `format version ${version}, this reader supports ${MEMORY_VERSION}`)
  return {
    version,
    keyDtype: dtypeOf(view.getUint8(6), 'key'),
    residualDtype: dtypeOf(view.getUint8(7), 'residual'),
    rows: view.getUint32(8, true),
    dim: view.getUint32(12, true),
    classes: view.getUint32(16, true),
    keyScale: view.getFloat32(24, true),
    modelFingerprint: toHex(bytes.subarray(32, 64)),
    byteLength: bytes.length,
  }
}

export interface ReadMemoryOptions {
  /**
   * The caller already checked the file's SHA-256 against a manifest that lists it: skip the trailing
   * checksum, so a load hashes each byte once (a manifest names the digest of the whole file, checksum included).
   */
  verified?: boolean
  /** Only rows [first, end) of the file (a shard's share of a part); the whole file when omitted. */
  first?: number
  end?: number
  /**
   * Where the int8 keys of those rows go ((end - first) * dim values), e.g. the k-NN kernel's own memory, so
   * keys are held once; a fresh array when omitted. The returned memory's keys view this target.
   */
  keysInto?: Int8Array
}

/** Parse and verify a memory.bin. Throws MemoryFormatError on anything but a complete, intact file. */
export async function readMemory(input: Uint8Array | ArrayBuffer, options: ReadMemoryOptions = {}): Promise<ResidualMemory> {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
  const h = readMemoryHeader(bytes)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const labelBytes = view.getUint32(20, true)
  // Sizes come from untrusted bytes: bound them before any arithmetic can overflow or allocate.
  if (h.dim < 1 || h.classes < 2 || h.rows * Math.max(h.dim, h.classes) > bytes.length || labelBytes > bytes.length) {
    throw new MemoryFormatError('corrupt', `implausible sizes (rows ${h.rows}, dim ${h.dim}, labels ${h.classes}) for a ${bytes.length}-byte file`)
  }
  const s = sections(h.rows, h.dim, h.classes, labelBytes, h.keyDtype, h.residualDtype)
  const expected = s.checksum + CHECKSUM_BYTES
  if (bytes.length < expected) throw new MemoryFormatError('truncated', `${bytes.length} bytes, the header promises ${expected}`)
  if (bytes.length > expected) throw new MemoryFormatError('corrupt', `${bytes.length - expected} unexpected trailing bytes`)
  if (!options.verified) {
    const digest = await sha256(bytes.subarray(0, s.checksum))
    if (!equalBytes(digest, bytes.subarray(s.checksum))) throw new MemoryFormatError('checksum_mismatch', 'checksum mismatch: the file is corrupt')
  }

  let labels: unknown
  try {
    labels = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(s.labels, s.labels + labelBytes)))
  } catch {
    throw new MemoryFormatError('corrupt', 'labels are not valid UTF-8 JSON')
  }
  if (!Array.isArray(labels) || labels.length !== h.classes || !labels.every((l) => typeof l === 'string') || new Set(labels).size !== labels.length) {
    throw new MemoryFormatError('corrupt', `labels must be ${h.classes} distinct strings`)
  }

  const first = options.first ?? 0
  const end = options.end ?? h.rows
  if (!Number.isInteger(first) || !Number.isInteger(end) || first < 0 || end < first || end > h.rows) throw new RangeError(`rows [${first}, ${end}) are not rows of a ${h.rows}-row memory`)
  const rows = end - first
  // Copy into fresh, aligned buffers: the input may sit at any byte offset and callers may reuse it.
  // Uint8Array's own slice: a Node Buffer's slice() returns a view, not a copy.
  const copy = (start: number, length: number) => Uint8Array.prototype.slice.call(bytes, start, start + length)
  const f32 = (start: number, count: number) => new Float32Array(copy(start, 4 * count).buffer)
  let keys: MemoryKeys
  if (h.keyDtype === 'int8') {
    const source = new Int8Array(bytes.buffer, bytes.byteOffset + s.keys + first * h.dim, rows * h.dim)
    const target = options.keysInto ?? new Int8Array(rows * h.dim)
    if (target.length !== rows * h.dim) throw new RangeError(`keysInto holds ${target.length} values, rows [${first}, ${end}) have ${rows * h.dim}`)
    target.set(source)
    keys = { dtype: 'int8', data: target, scale: h.keyScale }
  } else {
    keys = { dtype: 'float32', data: f32(s.keys + 4 * first * h.dim, rows * h.dim) }
  }
  const rowLabels = new Uint32Array(copy(s.rowLabels + 4 * first, 4 * rows).buffer)
  for (let i = 0; i < rows; i++) {
    if (rowLabels[i] >= h.classes) throw new MemoryFormatError('corrupt', `row ${first + i} has label id ${rowLabels[i]}, only ${h.classes} labels`)
  }
  const residuals: MemoryResiduals =
    h.residualDtype === 'int8'
      ? { dtype: 'int8', data: new Int8Array(copy(s.residuals + first * h.classes, rows * h.classes).buffer), scales: f32(s.residualScales + 4 * first, rows) }
      : { dtype: 'float32', data: f32(s.residuals + 4 * first * h.classes, rows * h.classes) }
  if (!(Number.isFinite(h.keyScale) && h.keyScale > 0)) throw new MemoryFormatError('corrupt', `key scale ${h.keyScale} is not a positive number`)
  if (residuals.dtype === 'int8' && !residuals.scales.every((x) => Number.isFinite(x) && x > 0)) throw new MemoryFormatError('corrupt', 'residual scales must be positive numbers')
  if (keys.dtype === 'float32' && !keys.data.every(Number.isFinite)) throw new MemoryFormatError('corrupt', 'keys contain non-finite values')
  if (residuals.dtype === 'float32' && !residuals.data.every(Number.isFinite)) throw new MemoryFormatError('corrupt', 'residuals contain non-finite values')

  return { rows, dim: h.dim, labels: labels as string[], keys, rowLabels, residuals, modelFingerprint: h.modelFingerprint }
}

/** Size in bytes of a memory with these dimensions, without building it (for reports). */
export function memoryByteLength(rows: number, dim: number, labels: string[], keyDtype: Dtype, residualDtype: Dtype): number {
  const labelBytes = new TextEncoder().encode(JSON.stringify(labels)).length
  return sections(rows, dim, labels.length, labelBytes, keyDtype, residualDtype).checksum + CHECKSUM_BYTES
}
