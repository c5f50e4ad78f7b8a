/** Seeded memories and rows for the segment tests: few distinct directions, so ties are everywhere. */
import { buildMemory } from '../../../src/memory/build.ts'
import type { ResidualMemory } from '../../../src/memory/format.ts'
import { encodeRow, type EncodedRow } from '../../../src/memory/row.ts'
import { mulberry32 } from '../../../scripts/data/random.ts'

export const LABELS = ['a', 'b', 'c']

export interface Drawn {
  embedding: Float32Array
  logits: Float32Array
  label: number
}

/** `n` examples whose embeddings repeat among `distinct` directions (duplicates tie exactly). */
export function drawExamples(n: number, dim: number, distinct: number, seed: number): Drawn[] {
  const next = mulberry32(seed)
  const directions = Array.from({ length: Math.max(1, distinct) }, () => Float32Array.from({ length: dim }, () => next() * 2 - 1))
  return Array.from({ length: n }, () => ({
    embedding: Float32Array.from(directions[Math.floor(next() * directions.length)], (x) => x * (0.5 + next())),
    logits: Float32Array.from(LABELS, () => (next() - 0.5) * 6),
    label: Math.floor(next() * LABELS.length),
  }))
}

export function memoryOf(examples: Drawn[], dim: number, temperature: number): ResidualMemory {
  const n = examples.length
  const embeddings = new Float32Array(n * dim)
  const logits = new Float32Array(n * LABELS.length)
  examples.forEach((e, i) => {
    embeddings.set(e.embedding, i * dim)
    logits.set(e.logits, i * LABELS.length)
  })
  return buildMemory(
    { rows: n, dim, embeddings, logits, labels: Uint32Array.from(examples, (e) => e.label) },
    { labels: LABELS, temperature, modelFingerprint: '0'.repeat(64), dtype: 'int8' },
  )
}

export function encode(example: Drawn, temperature: number, keyScale: number): EncodedRow {
  return encodeRow(example.embedding, example.logits, example.label, temperature, keyScale)
}

/** A memory holding exactly `rows` (int8 keys with `keyScale`), in that order: what an offline rebuild writes. */
export function memoryFromRows(rows: readonly Omit<EncodedRow, 'clamped'>[], dim: number, keyScale: number): ResidualMemory {
  const keys = new Int8Array(rows.length * dim)
  const residuals = new Int8Array(rows.length * LABELS.length)
  rows.forEach((r, i) => {
    keys.set(r.key, i * dim)
    residuals.set(r.residual, i * LABELS.length)
  })
  return {
    rows: rows.length,
    dim,
    labels: LABELS,
    keys: { dtype: 'int8', data: keys, scale: keyScale },
    rowLabels: Uint32Array.from(rows, (r) => r.label),
    residuals: { dtype: 'int8', data: residuals, scales: Float32Array.from(rows, (r) => r.residualScale) },
    modelFingerprint: '0'.repeat(64),
  }
}

/** Row i of a memory as an encoded row. */
export function rowOf(memory: ResidualMemory, i: number): Omit<EncodedRow, 'clamped'> {
  const { dim } = memory
  const c = memory.labels.length
  if (memory.keys.dtype !== 'int8' || memory.residuals.dtype !== 'int8') throw new Error('int8 memories only')
  return {
    label: memory.rowLabels[i],
    key: memory.keys.data.slice(i * dim, (i + 1) * dim),
    residual: memory.residuals.data.slice(i * c, (i + 1) * c),
    residualScale: memory.residuals.scales[i],
  }
}
