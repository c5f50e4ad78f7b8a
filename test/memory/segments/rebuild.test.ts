/**
 * The segmented memory's promise: after any sequence of learns and forgets, its answers are the answers of
 * one memory rebuilt offline from the rows that remain (built rows not forgotten, in row order, then learned
 * rows by id), with the same key scale. Checked with the SIMD wasm kernel and the TypeScript reference.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { EditOverlay, SegmentedMemory, builtSegment, type Hit } from '../../../src/memory/segments/index.ts'
import type { EncodedRow } from '../../../src/memory/row.ts'
import { MemorySearch } from '../../../src/resmem/search.ts'
import { indexFactories, loadKernels, type Kernels } from '../../knn/kernels.ts'
import { LABELS, drawExamples, encode, memoryFromRows, memoryOf, rowOf } from './fixtures.ts'

let kernels: Kernels
beforeAll(async () => {
  kernels = await loadKernels()
})

const factories = indexFactories(() => kernels)

type Op = { kind: 'add'; count: number } | { kind: 'forgetEdit'; pick: number } | { kind: 'forgetBuilt'; pick: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('forgetEdit' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('forgetBuilt' as const), pick: fc.nat() }),
)

/** What a hit says about its row, without where it lives (that differs between the two memories). */
const content = (h: Hit) => ({ score: h.score, similarity: h.similarity, label: h.label, residual: Array.from(h.residual) })

describe('segmented memory == offline rebuild, for any sequence of learns and forgets', () => {
  for (const kernel of Object.keys(factories)) {
    it(`with the ${kernel} kernel`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 1, max: 24 }),
          fc.integer({ min: 1, max: 6 }),
          fc.constantFrom(0.25, 1, 4),
          fc.array(op, { maxLength: 12 }),
          fc.integer(),
          async (builtRows, dim, distinct, T, ops, seed) => {
            const createIndex = factories[kernel as keyof typeof factories]
            // Built and learned examples share directions, so learned rows tie with built ones.
            const pool = drawExamples(builtRows + 80, dim, distinct, seed)
            const memory = memoryOf(pool.slice(0, Math.max(builtRows, 1)), dim, T)
            const built = builtRows === 0 ? memoryFromRows([], dim, memory.keys.dtype === 'int8' ? memory.keys.scale : 1) : memory
            const keyScale = built.keys.dtype === 'int8' ? built.keys.scale : NaN
            const overlay = new EditOverlay({ dim, classes: LABELS.length, keyScale, builtRows: built.rows, createIndex })
            const forgotten = new Set<number>()
            const learned = new Map<number, EncodedRow>()
            let nextId = 1
            let drawn = builtRows
            for (const o of ops) {
              if (o.kind === 'add') {
                const rows = pool.slice(drawn, drawn + o.count).map((e) => ({ ...encode(e, T, keyScale), id: nextId++ }))
                drawn += o.count
                overlay.add(rows)
                for (const r of rows) learned.set(r.id, r)
              } else if (o.kind === 'forgetEdit' && learned.size > 0) {
                const id = [...learned.keys()][o.pick % learned.size]
                expect(overlay.remove([id])).toBe(1)
                learned.delete(id)
              } else if (o.kind === 'forgetBuilt' && built.rows > 0) {
                forgotten.add(o.pick % built.rows)
              }
            }
            const live = new SegmentedMemory([builtSegment(built, { index: createIndex(built.keys.data as Int8Array, built.rows, dim) }), overlay], dim, forgotten)

            // The offline rebuild: surviving built rows in order, then learned rows by id.
            const survivors = Array.from({ length: built.rows }, (_, i) => i).filter((i) => !forgotten.has(i))
            const rebuiltRows = [...survivors.map((i) => rowOf(built, i)), ...[...learned.keys()].sort((a, b) => a - b).map((id) => learned.get(id)!)]
            const rebuilt = memoryFromRows(rebuiltRows, dim, keyScale)
            const offline = MemorySearch.of(rebuilt, createIndex(rebuilt.keys.data as Int8Array, rebuilt.rows, dim))
            const served = new MemorySearch(live)
            const orderOf = [...survivors, ...[...learned.keys()].sort((a, b) => a - b).map((id) => built.rows + id)]

            const queries = drawExamples(4, dim, distinct, seed + 7)
            for (const [qi, q] of queries.entries()) {
              const k = 1 + ((seed >>> 0) + qi * 5) % (rebuilt.rows + 3)
              const got = await served.decide(q.logits, q.embedding, { k, sigma: 0.3, temperature: T })
              const want = await offline.decide(q.logits, q.embedding, { k, sigma: 0.3, temperature: T })
              expect(got.neighbors.map(content)).toEqual(want.neighbors.map(content))
              // Same rows, not just equal-looking ones: hit i of the rebuild is row orderOf[row] of the live memory.
              expect(got.neighbors.map((h) => h.order)).toEqual(want.neighbors.map((h) => orderOf[h.row!]))
              expect(Array.from(got.probs)).toEqual(Array.from(want.probs))
              expect(got.label).toBe(want.label)
            }
          },
        ),
        { numRuns: 300 },
      )
    })
  }
})
