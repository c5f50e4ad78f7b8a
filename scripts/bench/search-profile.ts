/**
 * Where the memory search's milliseconds go inside workerd: the worker serves a synthetic memory (default
 * 100,000 x 384 in its own isolate), V8's sampling profiler (through the inspector) records N requests of
 * base (?k=0) and N of ResMem (?k=K), and each function's self time per request is compared: the difference
 * is what searching adds, function by function (the kernel's scan, top-k sort, residual reads, merge, ...).
 *
 *   node --experimental-websocket --import tsx scripts/bench/search-profile.ts [rows] [dim] [requests]
 *   (not run by the tests)
 */
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { parseManifest } from '../../src/memory/manifest.ts'
import { connectInspector, type Inspector } from '../../test/load/inspector.ts'
import { startWorker } from '../../test/workers-node/worker.ts'
import { stageAssets } from '../../workers/scripts/build.ts'
import { postJson } from './http-latency.ts'
import { resmemPath, searchedK } from './searched-k.ts'
import { writeSyntheticBundle } from './synthetic-bundle.ts'
import { loadTexts } from './texts.ts'

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

/**
 * Self time (ms) per function (name, file and line, with its caller's name: a builtin such as `has` is only
 * findable by who calls it), summed over the profile.
 */
export function selfTimes(profile: CpuProfile): Map<string, number> {
  const label = (n: CpuProfile['nodes'][number]) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').pop() ?? ''}:${n.callFrame.lineNumber}`
  const parent = new Map<number, CpuProfile['nodes'][number]>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n)
  const name = new Map(profile.nodes.map((n) => [n.id, `${label(n)} <- ${parent.has(n.id) ? label(parent.get(n.id)!) : '-'}`]))
  const out = new Map<string, number>()
  // timeDeltas[i + 1] is the time from sample i to the next: sample i's share.
  profile.samples.forEach((id, i) => {
    const key = name.get(id) ?? String(id)
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000)
  })
  return out
}

async function profiled(inspector: Inspector, run: () => Promise<void>): Promise<Map<string, number>> {
  await inspector.call('Profiler.enable')
  await inspector.call('Profiler.setSamplingInterval', { interval: 100 })
  await inspector.call('Profiler.start')
  await run()
  const { profile } = await inspector.call<{ profile: CpuProfile }>('Profiler.stop')
  return selfTimes(profile)
}

export async function profileSearch(o: { artifacts: string; model: string; work: string; rows: number; dim: number; requests: number; log: (m: string) => void }) {
  const name = `${o.model}-${o.rows}x${o.dim}`
  const artifacts = resolve(o.work, 'artifacts')
  const assets = resolve(o.work, 'assets')
  await rm(o.work, { recursive: true, force: true })
  await mkdir(artifacts, { recursive: true })
  o.log(`writing a synthetic ${o.rows} x ${o.dim} memory`)
  await writeSyntheticBundle(resolve(o.artifacts, o.model), join(artifacts, name), o.rows, { dim: o.dim, withoutLocality: true })
  await stageAssets(artifacts, assets)
  const { k } = searchedK(parseManifest(await readFile(join(artifacts, name, 'manifest.json'))))
  const texts = loadTexts(join(o.artifacts, '..', 'data', o.model, 'test.jsonl'), o.requests)
  // NOVELTY=off: otherwise ?k=0 also scans the memory (for its nearest row) and the difference hides the scan.
  const { worker, url } = await startWorker({ MODEL: name, MEMORY_SHARDS: '0', NOVELTY: 'off' }, { assets, inspector: true })
  try {
    const health = await fetch(new URL('/healthz', url))
    if (health.status !== 200) throw new Error(`${name}: /healthz ${health.status} ${await health.text()}`)
    for (const t of texts.slice(0, 5)) for (const path of ['/v1/classify?k=0', resmemPath(k)]) await postJson(new URL(path, url), { text: t })
    const inspector = await connectInspector((await worker.inspectorUrl)!)
    try {
      const send = (path: string) => async () => {
        for (const text of texts) {
          const r = await postJson(new URL(path, url), { text })
          if (r.status !== 200) throw new Error(`${path}: ${r.status} ${r.text.slice(0, 200)}`)
        }
      }
      o.log(`profiling ${texts.length} base requests, then ${texts.length} at k=${k}`)
      const base = await profiled(inspector, send('/v1/classify?k=0'))
      const resmem = await profiled(inspector, send(resmemPath(k)))
      const keys = new Set([...base.keys(), ...resmem.keys()])
      const rows = [...keys].map((f) => ({ fn: f, base: (base.get(f) ?? 0) / texts.length, resmem: (resmem.get(f) ?? 0) / texts.length })).map((r) => ({ ...r, added: r.resmem - r.base }))
      rows.sort((a, b) => b.added - a.added)
      const total = (m: Map<string, number>) => [...m.entries()].filter(([f]) => !f.startsWith('(idle)') && !f.startsWith('(program)')).reduce((s, [, v]) => s + v, 0) / texts.length
      return { name, k, requests: texts.length, busyMsPerRequest: { base: total(base), resmem: total(resmem) }, rows }
    } finally {
      await inspector.close()
    }
  } finally {
    await worker.dispose()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [rows = '100000', dim = '384', requests = '60'] = process.argv.slice(2)
  const r = await profileSearch({ artifacts: resolve('artifacts'), model: 'spam', work: resolve('out/search-profile'), rows: Number(rows), dim: Number(dim), requests: Number(requests), log: (m) => process.stderr.write(`search-profile: ${m}\n`) })
  console.log(`${r.name}, k=${r.k}, ${r.requests} requests each; JS+wasm busy ms per request (no idle/program): base ${r.busyMsPerRequest.base.toFixed(2)}, resmem ${r.busyMsPerRequest.resmem.toFixed(2)}`)
  console.log('self ms per request: added   base  resmem  function')
  for (const x of r.rows.slice(0, 15)) console.log(`${x.added.toFixed(3).padStart(8)} ${x.base.toFixed(3).padStart(7)} ${x.resmem.toFixed(3).padStart(7)}  ${x.fn}`)
  for (const x of r.rows.slice(-5)) console.log(`${x.added.toFixed(3).padStart(8)} ${x.base.toFixed(3).padStart(7)} ${x.resmem.toFixed(3).padStart(7)}  ${x.fn}`)
}
