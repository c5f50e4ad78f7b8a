// Cost per million classifications: the arithmetic of scripts/bench/cost.ts on measured-shaped CPU rows.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CpuRow } from '../../../scripts/bench/cpu.ts'
import { costTable, formatCost, PRICES } from '../../../scripts/bench/cost.ts'

const row = (model: CpuRow['model'], text: CpuRow['text'], tokens: number, cpu: number): CpuRow => ({ model, text, tokens, chars: 0, cpu_ms_p50: cpu, cpu_ms_p99: cpu, wall_ms_p50: cpu, calls: 1 })

describe('costTable', () => {
  it('prices a 256-token text: Workers Paid request + CPU, Workers AI tokens, bge-small tokens + Vectorize dims', () => {
    const t = costTable([row('fp32', '256', 256, 30), row('int8', '256', 256, 13.29), row('budget-10', '256', 128, 7.5), row('int8', '1MB', 256, 14)], 4139)
    expect(t.rows).toHaveLength(1)
    const [r] = t.rows
    expect(r.tokens).toBe(256)
    // fp32 is not priced (not what is served); 1 MB texts are not in the table.
    expect(r.resmem.map((m) => m.model)).toEqual(['int8', 'budget-10'])
    expect(r.resmem[0].usd).toBeCloseTo(0.3 + 0.02 * 13.29, 10)
    expect(r.resmem[1].usd).toBeCloseTo(0.3 + 0.02 * 7.5, 10)
    expect(r.workersAiDistilbert).toBeCloseTo(0.026 * 256, 10)
    expect(r.bgeSmallVectorize).toBeCloseTo(0.02 * 256 + 0.01 * 384 * (1 + 4139 / 1e6), 10)
    expect(formatCost(t).join('\n')).toContain(PRICES.read)
  })

  it('costs more with more CPU, more tokens and more stored vectors', () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: 100, noNaN: true }), fc.float({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 2, max: 512 }), fc.nat(1e7), (a, b, tokens, stored) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        const x = costTable([row('int8', '64', tokens, lo)], stored).rows[0]
        const y = costTable([row('int8', '64', tokens + 1, hi)], stored + 1).rows[0]
        expect(y.resmem[0].usd).toBeGreaterThanOrEqual(x.resmem[0].usd)
        expect(y.workersAiDistilbert).toBeGreaterThan(x.workersAiDistilbert)
        expect(y.bgeSmallVectorize).toBeGreaterThan(x.bgeSmallVectorize)
      }),
    )
  })
})
