// The poisoning bench on the real spam bundle (artifacts/spam, built by pretest), cut to 150 test texts and 6 edits.
import { describe, expect, it } from 'vitest'
import { benchPoisoning, formatPoisoningBench } from '../../../scripts/bench/poisoning.ts'

describe('bench: memory poisoning', () => {
  it('learns each drawn text with the wrong label, counts the other answers that change, and forgets it', async () => {
    const p = await benchPoisoning({ artifacts: 'artifacts', edits: 6, testLimit: 150, log: () => undefined })
    expect(p.texts).toBe(149)
    expect(p.perEdit).toHaveLength(6)
    for (const n of p.perEdit) expect(n).toBeGreaterThanOrEqual(0)
    for (const n of p.perEdit) expect(n).toBeLessThanOrEqual(p.texts)
    expect(p.changed.max).toBe(Math.max(...p.perEdit))
    expect(p.changed.max).toBeGreaterThanOrEqual(p.changed.p99)
    expect(p.changed.p99).toBeGreaterThanOrEqual(p.changed.median)
    // A wrong row learned from the text itself is that text's nearest neighbour: most take the wrong label.
    expect(p.selfFlipped).toBeGreaterThan(0)
    expect(formatPoisoningBench(p).join('\n')).toMatch(/max \d+, p99 \d+, median \d+/)
  }, 300_000)
})
