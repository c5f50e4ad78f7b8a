/**
 * `resmem bench --only scale`: memories past one static asset and one isolate, in workerd (wrangler dev) with
 * the real model. For each synthetic memory (seeded, the model's labels; keys of fewer dimensions than the
 * embedding through a seeded random projection, as `--key-dim` stores a PCA) written in parts:
 *  1. the worker with the memory in its isolate (MEMORY_SHARDS=0): the single-scan reference, the answers
 *     (top-k rows and similarities, ?explain=1) to the texts;
 *  2. then with MEMORY_SHARDS = S Durable Object shards for each S: the same answers? (`identical_topk`)
 * and each time base (?k=0) and ResMem latency, interleaved, one text per request, and the isolate's memory
 * (JS heap + ArrayBuffers + wasm memories through the inspector, after the requests).
 * Locally all objects run in one workerd process, so shard calls cross no network: a deployment adds it.
 */
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { stageAssets } from '../../workers/scripts/build.ts'
import { connectInspector } from '../../test/load/inspector.ts'
import { startWorker } from '../../test/workers-node/worker.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { progress } from '../cli/progress.ts'
import { interleavedLatency } from './http-latency.ts'
import { classifyAll, type Answer } from './memory.ts'
import { resmemPath, searchedK } from './searched-k.ts'
import { writeSyntheticBundle } from './synthetic-bundle.ts'

/** One line of DIR/scale.json. `shards` 0: the memory in the worker's own isolate. */
export interface ScaleRow {
  rows: number
  dim: number
  shards: number
  /** Neighbours the resmem variant searched (?k=, explicit: never the served 0 of a memory turned off). */
  k: number
  base_p50_ms: number
  resmem_p50_ms: number
  ratio_p50: number
  /** The worker isolate (shards 0); null with shards: each object is an isolate of its own in a deployment. */
  isolate_mib: number | null
  /** The served top-k (rows, similarities) equals the single scan's (MEMORY_SHARDS=0) on every text. */
  identical_topk: boolean
  /** Memory files (parts) and their total size. */
  parts: number
  memory_mib: number
  /** Texts whose top-k differed from the reference. */
  differing: number
}

export interface ScaleBench {
  model: string
  texts: number
  rows: ScaleRow[]
  /** Configurations that could not be measured (their targets fail: a row that measured nothing must not pass). */
  failed?: { rows: number; dim: number; shards: number; message: string }[]
  notes: string[]
}

export interface ScaleMemory {
  rows: number
  dim: number
  /** Shard counts to serve it with after the single-isolate reference. */
  shards: number[]
}

/** What a default run and a --quick run measure. */
export function scalePlan(quick: boolean): ScaleMemory[] {
  return quick
    ? [
        { rows: 20_000, dim: 384, shards: [] },
        { rows: 30_000, dim: 128, shards: [1, 2] },
      ]
    : [
        { rows: 100_000, dim: 384, shards: [] },
        { rows: 300_000, dim: 128, shards: [1, 2, 4, 8] },
        { rows: 1_000_000, dim: 128, shards: [1, 2, 4, 8] },
      ]
}

export interface ScaleOptions {
  artifacts: string
  model: string
  work: string
  texts: string[]
  memories: ScaleMemory[]
  /** Neighbours the resmem variant searches; default the served k, else the tuned k (searched-k.ts). */
  k?: number
  log: (message: string) => void
}

const MiB = 2 ** 20
/** Same top-k (rows and similarities), and a search on both sides: two empty lists prove nothing. */
export const sameTopK = (a: Pick<Answer, 'neighbors'>, b: Pick<Answer, 'neighbors'>): boolean =>
  (a.neighbors?.length ?? 0) > 0 && JSON.stringify(a.neighbors) === JSON.stringify(b.neighbors)

export async function benchScale(o: ScaleOptions): Promise<ScaleBench> {
  const rows: ScaleRow[] = []
  const failed: NonNullable<ScaleBench['failed']> = []
  const notes: string[] = []
  for (const m of o.memories) {
    const name = `${o.model}-${m.rows}x${m.dim}`
    const artifacts = resolve(o.work, 'artifacts')
    const assets = resolve(o.work, 'assets')
    await rm(artifacts, { recursive: true, force: true })
    await mkdir(artifacts, { recursive: true })
    o.log(`scale: writing a synthetic ${m.rows} x ${m.dim} memory`)
    const synthetic = await writeSyntheticBundle(resolve(o.artifacts, o.model), join(artifacts, name), m.rows, { dim: m.dim, withoutLocality: true })
    const { staged, skipped } = await stageAssets(artifacts, assets)
    if (!staged.some((b) => b.name === name)) throw new Error(`staging ${name} failed: ${skipped.find((s) => s.name === name)?.reason ?? 'not found'}`)

    const manifest = parseManifest(await readFile(join(artifacts, name, 'manifest.json')))
    const { k } = searchedK(manifest, o.k)
    let reference: { shards: number; answers: Answer[] } | undefined
    for (const shards of [0, ...m.shards]) {
      // wrangler's 503 "Your worker restarted mid-request" (or a reset connection) came now and then on a loaded
      // machine: such a configuration is started once more before it counts as failed.
      for (let attempt = 1; ; attempt++) {
        let retry = false
        o.log(`scale: ${name}, MEMORY_SHARDS=${shards}`)
        // The inspector only for the memory in the worker's isolate: with shards, wrangler's inspector proxy did
        // not answer here once the objects held big ranges, and locally the objects share the process anyway.
        // NOVELTY=off: with it on (the default) ?k=0 still searches one row for `novelty`, so base would scan too.
        const { worker, url } = await startWorker({ MODEL: name, MEMORY_SHARDS: String(shards), MEMORY_SHARD_TIMEOUT_MS: '120000', NOVELTY: 'off' }, { assets, inspector: shards === 0 })
        try {
          const health = await fetch(new URL('/healthz', url))
          if (health.status !== 200) throw new Error(`${name} with ${shards} shards: /healthz ${health.status} ${await health.text()}`)
          // The answers first: the first request also makes every shard load its rows.
          const answers = await classifyAll(url, o.texts, 32, k)
          const unsearched = answers.filter((a) => (a.neighbors?.length ?? 0) !== Math.min(k, m.rows)).length
          if (unsearched) throw new Error(`${unsearched} of ${answers.length} answers did not search k=${k} neighbours`)
          const [baseAnswer] = await classifyAll(url, o.texts.slice(0, 1), 1, 0)
          if (baseAnswer.novelty !== undefined || baseAnswer.neighbors?.length) throw new Error(`${name}: the base answer (?k=0) searched the memory (novelty ${baseAnswer.novelty}): it must be the model alone`)
          reference ??= { shards, answers }
          const differing = answers.filter((a, i) => !sameTopK(a, reference!.answers[i])).length
          if (reference.shards !== 0 && shards === reference.shards) notes.push(`${name}: the memory did not load in one isolate here; the top-k of ${shards} shard(s) is the reference.`)
          const bar = progress(`scale ${name} S=${shards}`, o.texts.length * 2, 'requests')
          const r = await interleavedLatency(url, o.texts, [
            { name: 'base', path: '/v1/classify?k=0' },
            { name: 'resmem', path: resmemPath(k) },
          ], { rounds: 1, onRequest: () => bar.increment(1) })
          bar.stop()
          if (r.errors) throw new Error(`${name} with ${shards} shards: ${r.errors} failed requests, first: ${r.firstError}`)
          let isolateMiB: number | null = null
          if (shards === 0) {
            // A slow inspector on a loaded machine costs the memory figure, not the row's latency and top-k.
            try {
              const inspector = await connectInspector((await worker.inspectorUrl)!)
              isolateMiB = (await inspector.memory().finally(() => inspector.close())).total / MiB
            } catch (err) {
              notes.push(`${name}: isolate memory not read (${(err as Error).message})`)
            }
          }
          const { base, resmem } = r.variants
          rows.push({
            rows: m.rows,
            dim: m.dim,
            shards,
            k,
            base_p50_ms: base.p50,
            resmem_p50_ms: resmem.p50,
            ratio_p50: resmem.p50 / base.p50,
            isolate_mib: isolateMiB,
            identical_topk: differing === 0,
            parts: synthetic.parts,
            memory_mib: synthetic.memoryBytes / MiB,
            differing,
          })
        } catch (err) {
          if (attempt === 1 && /restarted mid-request|ECONNRESET|fetch failed/.test((err as Error).message)) {
            o.log(`scale: ${name} with ${shards} shards: ${(err as Error).message.slice(0, 120)}; once more`)
            retry = true
            continue
          }
          // One configuration that cannot run (a memory too big for one local isolate) leaves the others.
          o.log(`scale: ${name} with ${shards} shards FAILED: ${(err as Error).message}`)
          notes.push(`${name} with MEMORY_SHARDS=${shards}: failed: ${(err as Error).message.slice(0, 300)}`)
          failed.push({ rows: m.rows, dim: m.dim, shards, message: (err as Error).message.slice(0, 300) })
        } finally {
          await worker.dispose()
        }
        if (!retry) break
      }
    }
  }
  return {
    model: o.model,
    texts: o.texts.length,
    rows,
    failed,
    notes: [
      ...notes,
      `${o.model}'s model with synthetic memories (seeded random keys and residuals, written in parts of at most 24 MiB; keys of fewer dimensions than the model's embedding through a seeded random projection): timing and exactness only, their predictions are meaningless.`,
      'shards 0: the memory in the worker\'s own isolate (MEMORY_SHARDS=0), also the single-scan reference that identical_topk compares the top-k (rows and similarities of ?explain=1) against, text by text.',
      'All Durable Objects run in the one local workerd process: a shard call crosses no network here; a deployment adds the network between the worker and each object (same colo for objects near it, more otherwise).',
      'isolate_mib: JS heap + ArrayBuffers + wasm memories of the worker isolate through the V8 inspector after the requests, with the memory in that isolate (shards 0); with shards the worker holds none of the rows and each object holds its range (memory_mib / shards).',
    ],
  }
}

export function formatScale(s: ScaleBench): string[] {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-')
  const out = [`Scale (${s.model}, ${s.texts} texts, one per request, base ?k=0 and resmem ?k=${s.rows[0]?.k ?? '-'} interleaved; ms):`, '      rows   dim  shards  base p50  resmem p50  ratio p50  isolate MiB  identical top-k']
  for (const r of s.rows) {
    out.push(`   ${String(r.rows).padStart(7)}  ${String(r.dim).padStart(4)}  ${String(r.shards).padStart(6)}  ${f(r.base_p50_ms).padStart(8)}  ${f(r.resmem_p50_ms).padStart(10)}  ${f(r.ratio_p50, 3).padStart(9)}  ${(r.isolate_mib === null ? '-' : f(r.isolate_mib)).padStart(11)}  ${r.identical_topk ? 'yes' : `NO (${r.differing} texts)`}`)
  }
  return out
}
