/**
 * `resmem bench --only memory`: what live edits cost the worker (workerd via wrangler dev, the real edit log).
 *  - classify latency (one text per request, base ?k=0 and the default k, interleaved) with 0, 1,000 and
 *    10,000 learned rows over the built memory, each stage's p50/p99 as a ratio to the stage without edits;
 *  - write latency: POST /v1/memory with 1 example and with 32, p50/p99.
 * The learned rows are short synthetic notes (seeded), written through POST /v1/memory in batches of 32.
 */
import { cp, mkdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { stageAssets } from '../../workers/scripts/build.ts'
import { ROOT } from '../../workers/scripts/build.ts'
import { progress } from '../cli/progress.ts'
import { mulberry32 } from '../data/random.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { interleavedLatency } from './http-latency.ts'
import { expectSearch, resmemPath, searchedK } from './searched-k.ts'
import { summarize } from './stats.ts'
import { startDevWorker, type DevWorker } from './wrangler-dev.ts'

export const BENCH_TOKEN = 'rsm_bench_memory_0123456789abcdef'
const AUTH = { authorization: `Bearer ${BENCH_TOKEN}` }

export interface MemoryBenchStage {
  editRows: number
  base: { p50: number; p99: number }
  resmem: { p50: number; p99: number }
  /** resmem p50 and p99 over the stage without edits (same run). */
  ratio: { p50: number; p99: number }
  /** resmem over base within this stage (interleaved, so the machine's load moves both): p50 ratio, and the median per-text ratio. */
  overBase: { p50: number; paired: number }
  errors: number
}

export interface MemoryBench {
  model: string
  /** The k the resmem variant searched (searched-k.ts). */
  k: number
  texts: number
  rounds: number
  stages: MemoryBenchStage[]
  writes: { examples: number; requests: number; p50: number; p99: number }[]
}

/** A worker serving bundles copied from `artifacts` (by name) into `work`, with an API token, storage in memory. */
export async function memoryWorker(artifacts: Record<string, string>, work: string, model: string, vars: Record<string, string> = {}): Promise<{ worker: DevWorker; url: URL }> {
  const staging = resolve(work, 'artifacts')
  await rm(staging, { recursive: true, force: true })
  for (const [name, from] of Object.entries(artifacts)) await cp(from, join(staging, name), { recursive: true })
  const assets = resolve(work, 'assets')
  await mkdir(assets, { recursive: true })
  await stageAssets(staging, assets)
  return startDevWorker({ config: join(ROOT, 'wrangler.toml'), assets, vars: { MODEL: model, ...vars }, secrets: { API_TOKEN: BENCH_TOKEN }, skipBuildCommand: true })
}

/** POST /v1/memory; the answer, timed. */
export async function learn(url: URL, examples: { text: string; label: string }[]): Promise<{ ms: number; ids: string[]; version: number }> {
  const t0 = performance.now()
  const res = await fetch(new URL('/v1/memory', url), { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ examples }) })
  const body = await res.text()
  const ms = performance.now() - t0
  if (res.status !== 201) throw new Error(`POST /v1/memory: ${res.status} ${body.slice(0, 300)}`)
  return { ms, ...(JSON.parse(body) as { ids: string[]; version: number }) }
}

/** DELETE /v1/memory/{id}. */
export async function forget(url: URL, id: string): Promise<void> {
  const res = await fetch(new URL(`/v1/memory/${id}`, url), { method: 'DELETE', headers: AUTH })
  if (res.status !== 200) throw new Error(`DELETE /v1/memory/${id}: ${res.status} ${await res.text()}`)
}

export interface Answer {
  label: string
  base: string
  scores: { label: string; score: number }[]
  neighbors: { source: 'built' | 'edit'; row?: number; id?: string }[]
  /** Beyond the build's novelty threshold (absent when the worker serves no novelty). */
  unfamiliar?: boolean
  /** Present when the answer searched the memory for its nearest row (NOVELTY on). */
  novelty?: number
}

/** Answers (with their neighbours) for many texts through POST /v1/classify?explain=1 {"texts"}, MAX_BATCH at a time. */
/** Classifies `texts` with `?explain=1`; `k` asks for that many neighbours (a build whose memory val turned off serves 0). */
export async function classifyAll(url: URL, texts: readonly string[], batch = 32, k?: number): Promise<Answer[]> {
  const out: Answer[] = []
  for (let i = 0; i < texts.length; i += batch) {
    const res = await fetch(new URL(`/v1/classify?explain=1${k === undefined ? '' : `&k=${k}`}`, url), { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ texts: texts.slice(i, i + batch) }) })
    const body = await res.text()
    if (res.status !== 200) throw new Error(`POST /v1/classify: ${res.status} ${body.slice(0, 300)}`)
    type Result = { label: string; base: { label: string }; scores: Answer['scores']; neighbors: Answer['neighbors']; unfamiliar?: boolean; novelty?: number }
    for (const r of (JSON.parse(body) as { results: Result[] }).results) {
      out.push({ label: r.label, base: r.base.label, scores: r.scores, neighbors: r.neighbors, unfamiliar: r.unfamiliar, ...(r.novelty === undefined ? {} : { novelty: r.novelty }) })
    }
  }
  return out
}

/** Short notes of 6 to 14 words drawn (seeded) from `vocabulary`, each unique by its number. */
export function syntheticNotes(count: number, vocabulary: readonly string[], seed = 11, offset = 0): string[] {
  const next = mulberry32(seed + offset)
  return Array.from({ length: count }, (_, i) => {
    const words = Array.from({ length: 6 + Math.floor(next() * 9) }, () => vocabulary[Math.floor(next() * vocabulary.length)])
    return `note ${offset + i}: ${words.join(' ')}`
  })
}

/** Lowercase words of 3 to 10 letters from the texts, in first-seen order. */
export function vocabularyOf(texts: readonly string[]): string[] {
  const seen = new Set<string>()
  for (const t of texts) for (const w of t.toLowerCase().match(/\b[a-z]{3,10}\b/g) ?? []) seen.add(w)
  return [...seen]
}

export interface MemoryBenchOptions {
  artifacts: string
  model: string
  work: string
  /** Texts for the classify latency (a test split). */
  texts: string[]
  rounds: number
  /** Edit rows at each stage after 0. */
  stages: number[]
  /** Requests timed for the 1-example write. */
  singleWrites: number
  log: (message: string) => void
}

export async function benchMemory(o: MemoryBenchOptions): Promise<MemoryBench> {
  const { worker, url } = await memoryWorker({ [o.model]: resolve(o.artifacts, o.model) }, o.work, o.model)
  try {
    // The resmem rows search at the served (else tuned) k: a build with its memory off serves k 0.
    const manifest = parseManifest(await readFile(join(resolve(o.artifacts, o.model), 'manifest.json')))
    const { k } = searchedK(manifest)
    await expectSearch(url, o.texts[0], k, manifest.memory.rows, AUTH)
    const vocabulary = vocabularyOf(o.texts)
    const stages: MemoryBenchStage[] = []
    const measure = async (editRows: number) => {
      o.log(`memory: classify latency with ${editRows} learned rows (${o.texts.length} texts x ${o.rounds})`)
      const bar = progress(`memory ${editRows} rows`, o.texts.length * 2 * o.rounds, 'requests')
      const r = await interleavedLatency(url, o.texts, [
        { name: 'base', path: '/v1/classify?k=0' },
        { name: 'resmem', path: resmemPath(k) },
      ], { rounds: o.rounds, headers: AUTH, onRequest: () => bar.increment(1) })
      bar.stop()
      const first = stages[0]?.resmem ?? r.variants.resmem
      const pick = (s: { p50: number; p99: number }) => ({ p50: s.p50, p99: s.p99 })
      stages.push({
        editRows,
        base: pick(r.variants.base),
        resmem: pick(r.variants.resmem),
        ratio: { p50: r.variants.resmem.p50 / first.p50, p99: r.variants.resmem.p99 / first.p99 },
        overBase: { p50: r.variants.resmem.p50 / r.variants.base.p50, paired: r.paired.resmem.medianRatio },
        errors: r.errors,
      })
    }
    await measure(0)

    // The 1-example write, timed alone (each is a learned row too; they count toward the first stage).
    const single: number[] = []
    const singles = syntheticNotes(o.singleWrites, vocabulary, 11, 1_000_000)
    for (const [i, text] of singles.entries()) single.push((await learn(url, [{ text, label: i % 2 ? 'ham' : 'spam' }])).ms)
    let rows = o.singleWrites
    const batched: number[] = []
    for (const target of o.stages) {
      const notes = syntheticNotes(target - rows, vocabulary, 11, rows)
      const bar = progress(`memory learn to ${target} rows`, notes.length, 'rows')
      for (let i = 0; i < notes.length; i += 32) {
        const chunk = notes.slice(i, i + 32).map((text, j) => ({ text, label: (i + j) % 2 ? 'ham' : 'spam' }))
        const { ms } = await learn(url, chunk)
        if (chunk.length === 32) batched.push(ms)
        bar.increment(chunk.length)
      }
      bar.stop()
      rows = target
      await measure(target)
    }
    const s1 = summarize(single)
    const s32 = summarize(batched)
    return {
      model: o.model,
      k,
      texts: o.texts.length,
      rounds: o.rounds,
      stages,
      writes: [
        { examples: 1, requests: s1.n, p50: s1.p50, p99: s1.p99 },
        { examples: 32, requests: s32.n, p50: s32.p50, p99: s32.p99 },
      ],
    }
  } finally {
    await worker.dispose()
  }
}

export function formatMemoryBench(m: MemoryBench): string[] {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-')
  const out = [
    `Live edits (${m.model}): POST /v1/classify one text per request, ${m.texts} texts x ${m.rounds} rounds, base (?k=0) and resmem (?k=${m.k}) interleaved, with learned rows`,
    `   (short synthetic notes, POST /v1/memory) over the built memory. ratio = resmem at this stage / resmem with no edits (same run);`,
    `   /base = resmem / base within the stage (interleaved: load drift between stages cancels), paired = median per-text resmem/base. ms.`,
    '   learned rows   base p50   base p99   resmem p50   resmem p99   ratio p50   ratio p99   /base p50   paired   errors',
  ]
  for (const s of m.stages) {
    out.push(
      `   ${String(s.editRows).padStart(12)}   ${f(s.base.p50).padStart(8)}   ${f(s.base.p99).padStart(8)}   ${f(s.resmem.p50).padStart(10)}   ${f(s.resmem.p99).padStart(10)}   ${f(s.ratio.p50, 3).padStart(9)}   ${f(s.ratio.p99, 3).padStart(9)}   ${f(s.overBase.p50, 3).padStart(9)}   ${f(s.overBase.paired, 3).padStart(6)}   ${String(s.errors).padStart(6)}`,
    )
  }
  for (const w of m.writes) out.push(`   write: POST /v1/memory with ${w.examples} example(s): p50 ${f(w.p50)} ms, p99 ${f(w.p99)} ms (${w.requests} requests)`)
  return out
}
