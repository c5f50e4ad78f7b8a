/**
 * Folding an edit log into a build (src/memory/fold.ts) and replaying a log onto a memory (replay.ts):
 *  - FoldMap's row <-> id mapping against a brute-force list, for random folds;
 *  - for any log of adds and forgets, folded at any version: the folded memory plus the rest of the log
 *    answers exactly as the unfolded memory plus the whole log, and both as one scan of the offline rebuild
 *    (same neighbours, same ids, same probabilities), with the SIMD kernel and the TypeScript reference.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { EditOp, MemoryRowId } from '../../src/memory/edits.ts'
import type { ResidualMemory } from '../../src/memory/format.ts'
import { FoldMap, foldEdits, toRanges } from '../../src/memory/fold.ts'
import { replayEdits } from '../../src/memory/replay.ts'
import { EditOverlay, SegmentedMemory, builtSegment, type Hit } from '../../src/memory/segments/index.ts'
import { MemorySearch } from '../../src/resmem/search.ts'
import { indexFactories, loadKernels, type IndexFactory, type Kernels } from '../knn/kernels.ts'
import { LABELS, drawExamples, encode, memoryFromRows, memoryOf, rowOf } from './segments/fixtures.ts'

let kernels: Kernels
beforeAll(async () => {
  kernels = await loadKernels()
})

const factories = indexFactories(() => kernels)

describe('FoldMap', () => {
  it('maps memory.bin rows to ids and back, as a list of the kept rows would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.array(fc.boolean(), { maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 30 }), (baseRows, drop, idList) => {
        const forgotten = Array.from({ length: baseRows }, (_, i) => i).filter((i) => drop[i])
        const ids = [...new Set(idList)].sort((a, b) => a - b)
        const kept = Array.from({ length: baseRows }, (_, i) => i).filter((i) => !drop[i])
        const rows: MemoryRowId[] = [...kept.map((row) => ({ kind: 'base' as const, row })), ...ids.map((id) => ({ kind: 'edit' as const, id }))]
        const map = new FoldMap(rows.length, { version: 500, log: 'x', base: { rows: baseRows, sha256: '0'.repeat(64) }, forgotten: toRanges(forgotten), ids: toRanges(ids) })
        expect(map.keptRows).toBe(kept.length)
        rows.forEach((id, row) => {
          expect(map.idOf(row)).toEqual(id)
          expect(map.rowOf(id)).toBe(row)
        })
        for (const row of forgotten) expect(map.rowOf({ kind: 'base', row })).toBeUndefined()
        expect(map.rowOf({ kind: 'base', row: baseRows })).toBeUndefined()
        expect(map.rowOf({ kind: 'edit', id: 201 })).toBeUndefined()
        expect(map.lastId).toBe(ids.length ? ids[ids.length - 1] : 0)
      }),
      { numRuns: 300 },
    )
  })

  it('without folded edits every row is base:{row}; a manifest that miscounts the rows is refused', () => {
    const map = new FoldMap(5)
    expect(map.idOf(3)).toEqual({ kind: 'base', row: 3 })
    expect(map.rowOf({ kind: 'base', row: 4 })).toBe(4)
    expect(map.version).toBe(0)
    expect(() => new FoldMap(5, { version: 3, log: 'x', base: { rows: 5, sha256: '0'.repeat(64) }, forgotten: [[1, 1]], ids: [] })).toThrow(/memory.bin has 5 rows/)
  })
})

type Step = { kind: 'add'; count: number } | { kind: 'forgetEdit'; pick: number } | { kind: 'forgetBuilt'; pick: number }
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), count: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('forgetEdit' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('forgetBuilt' as const), pick: fc.nat() }),
)

/** A served memory: built segment + overlay, the log replayed with the memory's FoldMap. */
function serve(memory: ResidualMemory, fold: FoldMap, ops: EditOp[], createIndex: IndexFactory) {
  const keyScale = memory.keys.dtype === 'int8' ? memory.keys.scale : NaN
  const overlay = new EditOverlay({ dim: memory.dim, classes: LABELS.length, keyScale, builtRows: memory.rows, createIndex })
  const forgotten = new Set<number>()
  replayEdits({ overlay, forgotten, fold }, ops)
  const segments = memory.rows ? [builtSegment(memory, { index: createIndex(memory.keys.data as Int8Array, memory.rows, memory.dim) })] : []
  return new MemorySearch(new SegmentedMemory([...segments, overlay], memory.dim, forgotten))
}

/** What a hit says, its row named as callers name rows (`idOf` a built row). */
const named = (idOf: (row: number) => MemoryRowId) => (h: Hit) => ({
  id: h.source === 'edit' ? ({ kind: 'edit', id: h.id! } as MemoryRowId) : idOf(h.row!),
  score: h.score,
  similarity: h.similarity,
  label: h.label,
  residual: Array.from(h.residual),
})

describe('a folded build plus the rest of the log == the build plus the whole log == the offline rebuild', () => {
  for (const kernel of Object.keys(factories)) {
    it(`with the ${kernel} kernel`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 30 }),
          fc.integer({ min: 1, max: 16 }),
          fc.integer({ min: 1, max: 5 }),
          fc.constantFrom(0.25, 1),
          fc.array(step, { maxLength: 14 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.integer(),
          async (builtRows, dim, distinct, T, steps, foldAt, seed) => {
            const createIndex = factories[kernel as keyof typeof factories]
            const pool = drawExamples(builtRows + 80, dim, distinct, seed)
            const base = memoryOf(pool.slice(0, builtRows), dim, T)
            const keyScale = base.keys.dtype === 'int8' ? base.keys.scale : NaN
            // The log as an edit log holds it: versions 1, 2, ...; an add's id is its version.
            const ops: EditOp[] = []
            const live = new Set<number>()
            const hidden = new Set<number>()
            let drawn = builtRows
            for (const s of steps) {
              if (s.kind === 'add') {
                for (let i = 0; i < s.count; i++) {
                  const { clamped: _, ...row } = encode(pool[drawn++], T, keyScale)
                  ops.push({ version: ops.length + 1, op: 'add', row })
                  live.add(ops.length)
                }
              } else if (s.kind === 'forgetEdit' && live.size) {
                const id = [...live][s.pick % live.size]
                live.delete(id)
                ops.push({ version: ops.length + 1, op: 'forget', target: { kind: 'edit', id } })
              } else if (s.kind === 'forgetBuilt') {
                const row = s.pick % builtRows
                if (hidden.has(row)) continue
                hidden.add(row)
                ops.push({ version: ops.length + 1, op: 'forget', target: { kind: 'base', row } })
              }
            }
            const upTo = Math.floor(foldAt * ops.length)
            const folded = foldEdits(base, ops, '0'.repeat(64), { log: 'epoch', upTo })
            const foldedMap = new FoldMap(folded.memory.rows, folded.edits)
            const baseMap = new FoldMap(base.rows)
            const whole = serve(base, baseMap, ops, createIndex)
            const rest = serve(folded.memory, foldedMap, ops, createIndex)

            // The offline rebuild of what remains: kept built rows in order, then live learned rows by id.
            const learned = new Map(ops.flatMap((o) => (o.op === 'add' && live.has(o.version) ? [[o.version, o.row!] as const] : [])))
            const kept = Array.from({ length: builtRows }, (_, i) => i).filter((i) => !hidden.has(i))
            const rebuilt = memoryFromRows([...kept.map((i) => rowOf(base, i)), ...[...learned.keys()].sort((a, b) => a - b).map((id) => learned.get(id)!)], dim, keyScale)
            const idsOfRebuilt: MemoryRowId[] = [...kept.map((row) => ({ kind: 'base' as const, row })), ...[...learned.keys()].sort((a, b) => a - b).map((id) => ({ kind: 'edit' as const, id }))]
            const offline = MemorySearch.of(rebuilt, rebuilt.rows ? createIndex(rebuilt.keys.data as Int8Array, rebuilt.rows, dim) : undefined)

            for (const [qi, q] of drawExamples(3, dim, distinct, seed + 11).entries()) {
              const k = 1 + (((seed >>> 0) + qi * 7) % (rebuilt.rows + 3))
              const params = { k, sigma: 0.3, temperature: T }
              const a = await whole.decide(q.logits, q.embedding, params)
              const b = await rest.decide(q.logits, q.embedding, params)
              const c = await offline.decide(q.logits, q.embedding, params)
              const viaFold = named((row) => foldedMap.idOf(row))
              const viaBase = named((row) => baseMap.idOf(row))
              expect(b.neighbors.map(viaFold)).toEqual(a.neighbors.map(viaBase))
              expect(a.neighbors.map(viaBase)).toEqual(c.neighbors.map(named((row) => idsOfRebuilt[row])))
              expect(Array.from(b.probs)).toEqual(Array.from(a.probs))
              expect(Array.from(a.probs)).toEqual(Array.from(c.probs))
            }
          },
        ),
        { numRuns: 200 },
      )
    })
  }
})
