// `resmem bench --quick --only kernel` writes bench.json and report.html with every kernel row and target.
// Timings are not asserted: benchmarks are not tests, and this machine is shared.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { run } from '../../../scripts/commands/bench.ts'
import type { BenchResult } from '../../../scripts/bench/result.ts'

describe('resmem bench --quick --only kernel', () => {
  let out: string | undefined
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true })
  })

  it('writes bench.json with the kernel rows of Node and workerd, their targets, and the report', async () => {
    out = await mkdtemp(join(tmpdir(), 'resmem-bench-'))
    await run(['--quick', '--only', 'kernel', '--out', out])
    const result = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')) as BenchResult
    expect(result).toMatchObject({ format: 'resmem-bench', version: 1, quick: true, sections: ['kernel'], failures: [] })
    expect(result.latency).toBeUndefined()
    for (const runtime of ['node', 'workerd']) {
      for (const impl of ['simd', 'scalar', 'reference']) {
        for (const rows of [1_000, 10_000, 100_000, 200_000]) {
          const row = result.kernel!.rows.find((r) => r.runtime === runtime && r.impl === impl && r.rows === rows)
          expect(row, `${runtime} ${impl} ${rows}`).toMatchObject({ dim: 128, k: 10 })
          expect(row!.gbPerS).toBeGreaterThan(0)
          expect(Number.isFinite(row!.gbPerS)).toBe(true)
        }
      }
    }
    // GB/s and x-reference, per runtime and size.
    expect(result.targets.filter((t) => t.section === 'kernel')).toHaveLength(16)
    for (const t of result.targets) expect(typeof t.pass).toBe('boolean')
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<svg')
  })
})

describe('resmem bench --only new-label --hold-out', () => {
  it('refuses a label langid does not have before running anything', async () => {
    await expect(run(['--only', 'new-label', '--hold-out', 'gl,xx', '--out', join(tmpdir(), 'resmem-bench-never')])).rejects.toThrow(/--hold-out: xx not among the labels/)
    await expect(run(['--only', 'new-label', '--hold-out', 'gl,gl'])).rejects.toThrow(/distinct/)
  })
})
