// The bounded load test (run.ts) as a test: 5,000 mixed requests at concurrency 16 over loopback, every answer
// its expected status (valid 200, invalid their 4xx), no errors or timeouts; the isolate's memory with the
// staged bundle and with a big synthetic memory (100,000 x 384, in parts) stays within 100 MiB of Cloudflare's
// 128 MB per isolate, each memory row costing at most 1.1 times its bytes in the files. Prints the figures.
// run.ts runs in a child process: reading the isolate's memory needs a global WebSocket (Node 20: a flag).
// `npm run test:load` runs this file alone (quieter figures than inside the whole suite).
import { expect, it } from 'vitest'
import { runChild } from '../helpers/child.ts'
import { formatReport, type LoadReport } from './run.ts'

const REQUESTS = 5000
const CONNECTIONS = 16
const ROWS = 100_000
const LIMIT = 128e6 // Cloudflare: 128 MB per isolate

/** run.ts's own limit; the test's is longer, so a stall fails with run.ts's last step, not vitest's timeout. */
const LIMIT_MS = 230_000

it(`${REQUESTS} mixed requests at concurrency ${CONNECTIONS}; isolate memory with ${ROWS} memory rows in parts`, { timeout: LIMIT_MS + 20_000 }, async () => {
  const flags = typeof WebSocket === 'undefined' ? ['--experimental-websocket'] : []
  const args = [...flags, '--import', 'tsx', 'test/load/run.ts', '--requests', String(REQUESTS), '--connections', String(CONNECTIONS), '--rows', String(ROWS), '--json']
  const { stdout, stderr } = await runChild(process.execPath, args, { limitMs: LIMIT_MS, what: 'test/load/run.ts' })
  console.log(stderr.split('\n').filter((l) => l.startsWith('load: ')).join('\n'))
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadReport
  console.log(formatReport(report))

  const { mixed } = report
  expect(mixed.requests).toBe(REQUESTS)
  expect({ errors: mixed.errors, timeouts: mixed.timeouts }).toEqual({ errors: 0, timeouts: 0 })
  for (const kind of mixed.kinds) {
    expect(kind.count, kind.name).toBeGreaterThan(0)
    expect(kind.samples, kind.name).toEqual([])
  }
  expect(mixed.unexpected).toBe(0)
  expect(Object.keys(mixed.statusCounts).filter((code) => Number(code) >= 500)).toEqual([])

  const [staged, big] = report.memory
  expect(staged.rows).toBeLessThan(ROWS)
  expect(big.rows).toBe(ROWS)
  for (const m of report.memory) {
    expect(m.loaded.total, m.bundle).toBeLessThan(LIMIT)
    expect(m.afterLoad.total, m.bundle).toBeLessThan(LIMIT)
  }
  // A lean isolate: each row's key held once (in the k-NN kernel's memory), nothing else per row of any size.
  expect(report.perRow.ratio).toBeLessThanOrEqual(1.1)
  expect(big.afterLoad.total).toBeLessThanOrEqual(100 * 2 ** 20)
})
