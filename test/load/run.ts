/**
 * Bounded load against the real worker over loopback (wrangler's unstable_startWorker: workerd, the staged
 * bundle, wrangler.toml), then the isolate's memory with a big synthetic memory.
 *
 *   node --experimental-websocket --import tsx test/load/run.ts [--requests 5000] [--connections 16]
 *        [--rows 100000] [--json]        (Node >= 22 needs no flag; npm run test:load runs load.test.ts)
 *
 * 1. Mixed load: `--requests` requests at `--connections` concurrency (autocannon), half valid (one text,
 *    a batch of 8, ?explain=1, a text over the model's maximum tokens, unicode) expecting 200, half invalid
 *    (bad JSON, wrong content type, a blank text, over MAX_BODY_BYTES = 64 KiB, wrong method, unknown path)
 *    expecting their 4xx. Every answer is checked against its expected status; latency p50/p99 per kind.
 * 2. Memory: the isolate's JS heap + ArrayBuffers + wasm memories (inspector.ts) idle, after the model loads
 *    and after load, for the staged bundle and for a copy with a synthetic `--rows`-row memory of the model's
 *    key dimension (scripts/bench/synthetic-bundle.ts), written in parts of at most 24 MiB; the bytes each row
 *    adds to the isolate against the bytes it adds to the files. The big memory also runs the largest request
 *    the API takes (32 texts over the maximum tokens), since onnxruntime's wasm memory keeps its high-water mark.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Manifest } from '../../src/memory/manifest.ts'
import { ASSETS_DIR } from '../../workers/scripts/build.ts'
import { startWorker, type StartedWorker } from '../workers-node/worker.ts'
import { connectInspector, type IsolateMemory } from './inspector.ts'
import { writeSyntheticBundle } from '../../scripts/bench/synthetic-bundle.ts'

// autocannon ships no types; the slice used here.
interface CannonRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: string
  setupRequest?: (req: CannonRequest, context: { started?: number }) => CannonRequest
  onResponse?: (status: number, body: string, context: { started?: number }) => void
}
interface CannonResult {
  requests: { total: number; average: number }
  latency: { p50: number; p99: number; max: number }
  duration: number
  errors: number
  timeouts: number
  statusCodeStats: Record<string, { count: number }>
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: object) => Promise<CannonResult>

const MAX_BODY_BYTES = 65536
const MiB = 1024 * 1024

interface Kind {
  name: string
  expect: number
  request: Omit<CannonRequest, 'setupRequest' | 'onResponse'>
}

const json = { 'content-type': 'application/json' }
const post = (body: unknown, path = '/v1/classify') => ({ method: 'POST', path, headers: json, body: typeof body === 'string' ? body : JSON.stringify(body) })
const HAM = 'Hi Anna, thanks for the notes from Tuesday. I moved the design review to Thursday at 3pm.'
const SPAM = 'Congratulations!!! You have been selected for a FREE $1000 gift card. Click here now to claim your prize.'

const MAX_BATCH = 32 // wrangler.toml
const WORST_CASE: Kind = { name: 'valid: worst case', expect: 200, request: post({ texts: Array.from({ length: MAX_BATCH }, (_, i) => `${i} ${SPAM} `.repeat(40)) }) }

export const KINDS: Kind[] = [
  { name: 'valid: one text', expect: 200, request: post({ text: HAM }) },
  { name: 'valid: spam text', expect: 200, request: post({ text: SPAM }) },
  { name: 'valid: batch of 8', expect: 200, request: post({ texts: [HAM, SPAM, HAM, SPAM, HAM, SPAM, HAM, SPAM] }) },
  { name: 'valid: ?explain=1', expect: 200, request: post({ text: SPAM }, '/v1/classify?explain=1') },
  { name: 'valid: over max tokens', expect: 200, request: post({ text: `${SPAM} `.repeat(60) }) },
  { name: 'valid: unicode', expect: 200, request: post({ text: '🎁 免费 مجاني \u0000 e\u0301 \ud800' }) },
  { name: 'invalid: bad JSON', expect: 400, request: post('{"text": "cut') },
  { name: 'invalid: text/plain', expect: 415, request: { method: 'POST', path: '/v1/classify', headers: { 'content-type': 'text/plain' }, body: HAM } },
  { name: 'invalid: blank text', expect: 400, request: post({ text: '  ' }) },
  { name: 'invalid: over 64 KiB', expect: 413, request: post({ text: 'x'.repeat(MAX_BODY_BYTES + 100) }) },
  { name: 'invalid: GET', expect: 405, request: { method: 'GET', path: '/v1/classify' } },
  { name: 'invalid: unknown path', expect: 404, request: post({ text: HAM }, '/v1/nope') },
]

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export interface KindReport {
  name: string
  expect: number
  count: number
  unexpected: number
  /** The first few unexpected answers: status and the start of the body. */
  samples: string[]
  p50: number
  p99: number
}

export interface MixedReport {
  requests: number
  connections: number
  seconds: number
  requestsPerSecond: number
  /** autocannon's own counts: connection errors and timeouts. */
  errors: number
  timeouts: number
  statusCounts: Record<string, number>
  /** All requests, autocannon's histogram (ms). */
  latency: { p50: number; p99: number; max: number }
  kinds: KindReport[]
  unexpected: number
}

/** `amount` requests cycling through KINDS, each answer checked against its kind's status. */
export async function mixedLoad(url: URL, amount: number, connections: number, kinds: Kind[] = KINDS): Promise<MixedReport> {
  const seen = kinds.map(() => ({ latencies: [] as number[], unexpected: 0, samples: [] as string[] }))
  const requests: CannonRequest[] = kinds.map((kind, i) => ({
    ...kind.request,
    setupRequest: (req, context) => {
      context.started = performance.now()
      return req
    },
    onResponse: (status, body, context) => {
      seen[i].latencies.push(performance.now() - (context.started ?? performance.now()))
      if (status !== kind.expect) {
        seen[i].unexpected++
        if (seen[i].samples.length < 3) seen[i].samples.push(`${status} ${String(body).slice(0, 160)}`)
      }
    },
  }))
  const result = await autocannon({ url: url.origin, connections, amount, requests, timeout: 30 })
  const kindReports = kinds.map((kind, i): KindReport => {
    const sorted = seen[i].latencies.sort((a, b) => a - b)
    return { name: kind.name, expect: kind.expect, count: sorted.length, unexpected: seen[i].unexpected, samples: seen[i].samples, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
  })
  return {
    requests: result.requests.total,
    connections,
    seconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
    latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    kinds: kindReports,
    unexpected: kindReports.reduce((s, k) => s + k.unexpected, 0) + result.errors + result.timeouts,
  }
}

export interface MemoryReport {
  bundle: string
  rows: number
  dim: number
  memoryBinBytes: number
  /** Time for /healthz to load the bundle (ms), as the worker reports it. */
  loadMs: number
  loaded: IsolateMemory
  afterLoad: IsolateMemory
  /** What ran between `loaded` and `afterLoad`. */
  afterLoadRequests: string
}

interface Started {
  worker: StartedWorker
  url: URL
}

const start = (vars: Record<string, string>, assets?: string): Promise<Started> => startWorker(vars, { inspector: true, ...(assets ? { assets } : {}) })

/**
 * The isolate's memory idle, after /healthz loads the bundle, and after `load` ran. The inspector is attached
 * only to take each figure (see inspector.ts). The workerd process's RSS is no measure here: with wrangler's
 * inspector enabled it grew by hundreds of MB more than without (a 66k-row load: 1.2 GB attached, 245 MB not).
 */
async function measure(started: Started, bundle: string, load: (url: URL) => Promise<string>, log: (line: string) => void): Promise<MemoryReport> {
  const { worker, url } = started
  const inspectorUrl = await worker.inspectorUrl
  if (!inspectorUrl) throw new Error('the worker has no inspector')
  const isolate = async () => {
    const inspector = await connectInspector(inspectorUrl)
    try {
      return await inspector.memory()
    } finally {
      await inspector.close()
    }
  }
  // wrangler attaches its inspector proxy to the runtime on the first request. The isolate is not read before the
  // bundle loads: with the debugger attached once before it, loading the 100k-row bundle took 7 s here instead of
  // 2 s, and in a fresh-clone CI run /healthz never answered within 180 s (the stall this test reported).
  log(`${bundle}: first request`)
  await (await fetch(new URL('/openapi.json', url))).arrayBuffer()
  log(`${bundle}: loading the bundle (/healthz)`)
  const health = await fetch(new URL('/healthz', url))
  if (health.status !== 200) throw new Error(`${bundle}: /healthz answered ${health.status}: ${await health.text()}`)
  const { runtime, memoryRows } = (await health.json()) as { runtime: { loadMs: number }; memoryRows: number }
  const manifest = (await (await fetch(new URL('/v1/model', url))).json()) as Manifest
  log(`${bundle}: the loaded isolate's memory`)
  const loaded = await isolate()
  const afterLoadRequests = await load(url)
  log(`${bundle}: the isolate's memory after the requests`)
  const afterLoad = await isolate()
  return { bundle, rows: memoryRows, dim: manifest.memory.dim, memoryBinBytes: manifest.memory.bytes, loadMs: runtime.loadMs, loaded, afterLoad, afterLoadRequests }
}

export interface LoadReport {
  mixed: MixedReport
  memory: MemoryReport[]
  /** Bytes per memory row, from the staged bundle to the big synthetic one: in the isolate, in the files, their ratio. */
  perRow: { isolate: number; file: number; ratio: number }
}

export interface LoadOptions {
  requests: number
  connections: number
  rows: number
  model?: string
  log?: (line: string) => void
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const started = performance.now()
  const say = options.log ?? (() => {})
  // Each line says when: a stalled run's last line is the step it stalled in.
  const log = (line: string) => say(`${((performance.now() - started) / 1000).toFixed(1)} s: ${line}`)
  const model = options.model ?? process.env.MODEL ?? 'spam'
  const memory: MemoryReport[] = []

  log(`starting the worker (${model}, MAX_BODY_BYTES=${MAX_BODY_BYTES}) on loopback`)
  const base = await start({ MODEL: model, MAX_BODY_BYTES: String(MAX_BODY_BYTES) })
  let mixed: MixedReport | undefined
  try {
    memory.push(
      await measure(base, `${model} (as staged)`, async (url) => {
        log(`mixed load: ${options.requests} requests at concurrency ${options.connections}`)
        mixed = await mixedLoad(url, options.requests, options.connections)
        return `the mixed load (${mixed.requests} requests)`
      }, log),
    )
  } finally {
    log('stopping the worker')
    await base.worker.dispose()
  }

  const staged = join(ASSETS_DIR, model)
  if (!existsSync(join(staged, 'manifest.json'))) throw new Error(`${staged} is not staged: run npm run build:worker`)
  const rows = options.rows
  const dir = mkdtempSync(join(tmpdir(), 'resmem-load-assets-'))
  try {
    const name = `${model}-${rows}`
    // In parts of at most 24 MiB (src/memory/parts.ts): each one a static asset.
    log(`writing a synthetic ${rows}-row memory into a copy of ${model}`)
    const synthetic = await writeSyntheticBundle(staged, join(dir, name), rows)
    log(`${(synthetic.memoryBytes / MiB).toFixed(1)} MiB in ${synthetic.parts} part(s)`)
    log(`starting the worker on the synthetic memory (${name})`)
    const big = await start({ MODEL: name }, dir)
    try {
      memory.push(
        await measure(big, `${name} (synthetic memory, ${synthetic.parts} parts)`, async (url) => {
          const valid = KINDS.filter((k) => k.expect === 200)
          log(`${name}: 1000 valid requests, then the largest request the API takes`)
          const report = await mixedLoad(url, 1000, options.connections, valid)
          // The largest request the API takes, MAX_BATCH texts each over the model's maximum tokens: onnxruntime's
          // wasm memory grows to the largest batch it has run and never shrinks.
          const worst = await mixedLoad(url, 8, 2, [WORST_CASE])
          const unexpected = report.unexpected + worst.unexpected
          if (unexpected) throw new Error(`${name}: ${unexpected} unexpected answers: ${JSON.stringify([...report.kinds, ...worst.kinds].flatMap((k) => k.samples))}`)
          const w = worst.kinds[0]
          return `${report.requests} valid requests, then ${worst.requests} of ${MAX_BATCH} texts over the maximum tokens (p50 ${ms(w.p50)}, max ${ms(worst.latency.max)})`
        }, log),
      )
    } finally {
      log('stopping the worker')
      await big.worker.dispose()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }

  // Per row, from the two loads (same model, same runtime): what the isolate and the memory's files grow by.
  const [a, b] = memory
  const isolateBytesPerRow = (b.loaded.total - a.loaded.total) / (b.rows - a.rows)
  const fileBytesPerRow = (b.memoryBinBytes - a.memoryBinBytes) / (b.rows - a.rows)
  return { mixed: mixed!, memory, perRow: { isolate: isolateBytesPerRow, file: fileBytesPerRow, ratio: isolateBytesPerRow / fileBytesPerRow } }
}

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`

/** The report as a few readable lines. */
export function formatReport(r: LoadReport): string {
  const m = r.mixed
  const lines = [
    `mixed load: ${m.requests} requests, concurrency ${m.connections}, ${m.seconds.toFixed(1)} s, ${m.requestsPerSecond.toFixed(0)} req/s; unexpected answers ${m.unexpected} (errors ${m.errors}, timeouts ${m.timeouts})`,
    `  statuses: ${Object.entries(m.statusCounts).map(([code, n]) => `${code} x${n}`).join(', ')}; latency (all) p50 ${ms(m.latency.p50)}, p99 ${ms(m.latency.p99)}, max ${ms(m.latency.max)}`,
    ...m.kinds.map((k) => `  ${k.name.padEnd(26)} ${String(k.count).padStart(5)} x ${k.expect}: p50 ${ms(k.p50).padStart(7)}, p99 ${ms(k.p99).padStart(7)}${k.unexpected ? `, ${k.unexpected} UNEXPECTED: ${k.samples.join(' | ')}` : ''}`),
    'isolate memory (JS heap + ArrayBuffers + wasm memories, post-GC, via the V8 inspector):',
    ...r.memory.map((x) =>
      [
        `  ${x.bundle}: ${x.rows} rows x ${x.dim}, memory.bin ${mib(x.memoryBinBytes)}, loaded in ${x.loadMs} ms`,
        `    loaded ${mib(x.loaded.total)} (heap ${mib(x.loaded.heapUsed)}, ArrayBuffers ${mib(x.loaded.arrayBuffers)}, wasm ${x.loaded.wasmMemories.map(mib).join(' + ')})`,
        `    after ${x.afterLoadRequests}: ${mib(x.afterLoad.total)} (heap ${mib(x.afterLoad.heapUsed)}, ArrayBuffers ${mib(x.afterLoad.arrayBuffers)}, wasm ${x.afterLoad.wasmMemories.map(mib).join(' + ')})`,
      ].join('\n'),
    ),
    `  per memory row: ${r.perRow.isolate.toFixed(0)} bytes in the isolate, ${r.perRow.file.toFixed(0)} in the files (x${r.perRow.ratio.toFixed(3)})`,
  ]
  return lines.join('\n')
}

async function main() {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '5000' }, connections: { type: 'string', default: '16' }, rows: { type: 'string', default: '100000' }, json: { type: 'boolean', default: false } },
  })
  const report = await runLoad({
    requests: Number(values.requests),
    connections: Number(values.connections),
    rows: Number(values.rows),
    log: (line) => console.error(`load: ${line}`),
  })
  console.error(formatReport(report))
  if (values.json) console.log(JSON.stringify(report))
  process.exit(0)
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main()
