// The bounded load test (run.ts) as a test: 5,000 mixed requests at concurrency 16 over loopback, every answer
// its expected status (valid 200, invalid their 4xx), no errors or timeouts; the isolate's memory with the
// staged bundle and with a big synthetic memory stays under Cloudflare's 128 MB per isolate. Prints the figures.
// run.ts runs in a child process: reading the isolate's memory needs a global WebSocket (Node 20: a flag).
// `npm run test:load` runs this file alone (quieter figures than inside the whole suite).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { formatReport, type LoadReport } from './run.ts'

const REQUESTS = 5000
const CONNECTIONS = 16
const ROWS = 100_000
const LIMIT = 128e6 // Cloudflare: 128 MB per isolate

it(`${REQUESTS} mixed requests at concurrency ${CONNECTIONS}; isolate memory with up to ${ROWS} memory rows (the most that fit one 25 MiB asset)`, { timeout: 240_000 }, async () => {
  const flags = typeof WebSocket === 'undefined' ? ['--experimental-websocket'] : []
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--import', 'tsx', 'test/load/run.ts', '--requests', String(REQUESTS), '--connections', String(CONNECTIONS), '--rows', String(ROWS), '--json'], {
    maxBuffer: 64 << 20,
    timeout: 230_000,
  })
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
  expect(big.rows).toBeGreaterThan(staged.rows)
  for (const m of report.memory) {
    expect(m.loaded.total, m.bundle).toBeLessThan(LIMIT)
    expect(m.afterLoad.total, m.bundle).toBeLessThan(LIMIT)
  }
  // The full memory when it fits one static asset; otherwise the largest that does was measured (and
  // the figure for ROWS extrapolated in the report).
  if (report.requestedFitsAssetLimit) expect(big.rows).toBe(ROWS)
  else expect(big.memoryBinBytes).toBeLessThanOrEqual(25 * 1024 * 1024)
})
