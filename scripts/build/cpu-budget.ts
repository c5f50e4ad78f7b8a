/**
 * `resmem build --cpu-budget-ms N`: the served max length that keeps a classification within N ms of CPU.
 *
 * Candidates are the built model at served max lengths of MAX_LENGTHS (at most the trained one; a model
 * trained at 256 tokens may serve fewer). Each is measured on this machine on the worker's code path
 * (ResMemClassifier, onnxruntime-web's wasm build, one thread, the SIMD k-NN kernel searching the tuned k) with
 * Node's process.cpuUsage() around each call of the longest val text, and scored on val (the served label).
 * Candidates take turns call by call, so a change in the machine's load falls on all of them alike, after
 * WARMUP_CALLS untimed calls: V8 compiles the wasm runtime's hot code in background threads during the first
 * ~60 calls, and process CPU counts them (a 2 ms call measured 20-40 ms until then). A candidate fits when its CPU
 * p50 is within HEADROOM of the budget: a bare p50 fit served a length measured over the budget minutes later
 * (9.2 ms on val, 10.9 ms in the bench), and a p90 fit follows the machine's noise (a 2 ms call had a 7 ms p90
 * under load, from GC and compile threads).
 * The most accurate candidate that fits is served (ties: the cheaper); when none fits, the cheapest,
 * recorded as not met. Everything measured goes to manifest.json `cpuBudget`.
 */
import { loadBundle, type Bundle } from '../../src/bundle/load.ts'
import { ArtifactError } from '../../src/bundle/source.ts'
import { ResMemClassifier } from '../../src/classifier.ts'
import { parseManifest, type CpuBudget, type Manifest, type ServingCandidate } from '../../src/memory/manifest.ts'
import type { OrtRuntime } from '../../src/model/runner.ts'
import { nodeIndexFactory } from '../../src/node/index.ts'
import { ORT_BATCH } from '../../workers/ort-batch.ts'
import { searchedK } from '../bench/searched-k.ts'
import { summarize } from '../bench/stats.ts'

/** Served max lengths tried, longest first. */
export const MAX_LENGTHS = [256, 192, 160, 128, 96, 64, 48, 32] as const
/** The Workers Free plan's CPU time per request (Cloudflare's limits page, read 2026-12-06). */
export const FREE_PLAN_CPU_MS = 10
/** A candidate fits when its CPU p50 is at most this share of the budget: room for load and other CPUs. */
export const HEADROOM = 0.8
/** Untimed calls (all candidates together) before timing: past V8's background compilation of the wasm runtime. */
export const WARMUP_CALLS = 64

export const CPU_BUDGET_METHOD =
  "Node's process.cpuUsage() (user+system) around classify calls of the longest val text on the worker's code path (onnxruntime-web wasm, 1 thread, SIMD k-NN searching the tuned k), candidates taking turns call by call after 64 untimed calls; a candidate fits when its p50 is within 0.8 of the budget"

export interface CpuBudgetOptions {
  budgetMs: number
  /** Val texts and their labels (label names). */
  val: readonly { text: string; label: string }[]
  /** Timed calls per candidate after 3 untimed ones. */
  calls?: number
  lengths?: readonly number[]
  onCandidate?: (c: ServingCandidate) => void
}

/** What `resmem build` fits when no --cpu-budget-ms is given: the Free plan, so a first deploy does not exceed it. */
export const DEFAULT_CPU_BUDGET = 'free'

/** `--cpu-budget-ms`: a positive number of ms, `free` (the Free plan's 10 ms) or `off` (no budget: undefined). */
export function parseCpuBudget(value: string = DEFAULT_CPU_BUDGET): number | undefined {
  if (value === 'off') return undefined
  if (value === 'free') return FREE_PLAN_CPU_MS
  const n = Number(value)
  if (!(Number.isFinite(n) && n > 0)) throw new RangeError(`--cpu-budget-ms: want a number of milliseconds > 0, "free" or "off", got "${value}"`)
  return n
}

/** The bundle served at `maxLength` tokens. */
export const atMaxLength = (bundle: Bundle, maxLength: number): Bundle => ({ ...bundle, manifest: { ...bundle.manifest, model: { ...bundle.manifest.model, maxLength } } })

/** A classifier on the worker's code path (what the CPU is measured on). */
export async function workerPathClassifier(bundle: Bundle): Promise<ResMemClassifier> {
  // Imported here: a build without --cpu-budget-ms never loads onnxruntime-web.
  const ortWeb = await import('onnxruntime-web/wasm')
  ortWeb.env.wasm.numThreads = 1
  ortWeb.env.wasm.proxy = false
  // The session options of workers/ort.ts.
  const sessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }
  return ResMemClassifier.create(bundle, { ort: ortWeb as unknown as OrtRuntime, sessionOptions, createIndex: nodeIndexFactory('simd'), batchSize: ORT_BATCH })
}

/** CPU ms of one classify call of `text` (searching k neighbours). */
async function cpuOfCall(classifier: ResMemClassifier, text: string, k: number): Promise<number> {
  const c0 = process.cpuUsage()
  await classifier.classify([text], { params: { k } })
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}

/** CPU ms samples of each classifier, `calls` each, taking turns call by call (after WARMUP_CALLS untimed calls, 3 rounds at least). */
export async function cpuTakingTurns(classifiers: readonly ResMemClassifier[], text: string, k: number, calls: number): Promise<number[][]> {
  const rounds = Math.max(3, Math.ceil(WARMUP_CALLS / classifiers.length))
  for (let i = 0; i < rounds; i++) for (const c of classifiers) await c.classify([text], { params: { k } })
  const samples = classifiers.map((): number[] => [])
  for (let i = 0; i < calls; i++) for (const [j, c] of classifiers.entries()) samples[j].push(await cpuOfCall(c, text, k))
  return samples
}

/** CPU ms p50 and p99 of classifying `text` `calls` times (searching k neighbours). */
export async function cpuPerCall(classifier: ResMemClassifier, text: string, k: number, calls: number, onCall?: () => void): Promise<{ p50: number; p99: number; wallP50: number }> {
  for (let i = 0; i < 3; i++) await classifier.classify([text], { params: { k } })
  const cpu: number[] = []
  const wall: number[] = []
  for (let i = 0; i < calls; i++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    await classifier.classify([text], { params: { k } })
    wall.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
    onCall?.()
  }
  const s = summarize(cpu)
  return { p50: s.p50, p99: s.p99, wallP50: summarize(wall).p50 }
}

/**
 * Share of `examples` whose served label (the bundle's served k) is theirs. With `seen` (shared by classifiers of
 * one bundle that differ only in max length), a text whose model input is one already classified is not run again:
 * a text shorter than both lengths gets the same tokens, and a text's answer does not depend on its batch-mates.
 */
export async function servedAccuracy(classifier: ResMemClassifier, examples: readonly { text: string; label: string }[], seen = new Map<string, string>()): Promise<number> {
  const { tokenizer } = classifier
  const keys = examples.map((e) => tokenizer.ids(e.text).slice(0, tokenizer.maxLength).join(','))
  // Each model input once, from the first text that gives it (a map, not a scan per text: val may hold thousands).
  const firsts = new Map<string, string>()
  examples.forEach((e, i) => seen.has(keys[i]) || firsts.has(keys[i]) || firsts.set(keys[i], e.text))
  const todo = [...firsts].map(([key, text]) => ({ key, text }))
  for (let i = 0; i < todo.length; i += ORT_BATCH) {
    const batch = todo.slice(i, i + ORT_BATCH)
    const answers = await classifier.classify(batch.map((e) => e.text))
    answers.forEach((a, j) => seen.set(batch[j].key, a.label))
  }
  const right = examples.filter((e, i) => seen.get(keys[i]) === e.label).length
  return examples.length ? right / examples.length : 0
}

/** The candidate to serve: the most accurate whose p50 is within HEADROOM of the budget (ties: the cheaper), else the cheapest. */
export function pickCandidate(candidates: readonly ServingCandidate[], budgetMs: number): { chosen: ServingCandidate; met: boolean } {
  if (candidates.length === 0) throw new RangeError('no serving candidate was measured')
  const within = candidates.filter((c) => c.cpuMsP50 <= HEADROOM * budgetMs)
  const cheapest = (a: ServingCandidate, b: ServingCandidate) => (a.cpuMsP50 <= b.cpuMsP50 ? a : b)
  if (within.length === 0) return { chosen: candidates.reduce(cheapest), met: false }
  const best = Math.max(...within.map((c) => c.valAccuracy))
  return { chosen: within.filter((c) => c.valAccuracy === best).reduce(cheapest), met: true }
}

/** Measures every candidate of `bundle` and picks the served max length (manifest.json `cpuBudget`). */
export async function chooseCpuBudget(bundle: Bundle, o: CpuBudgetOptions): Promise<CpuBudget> {
  const trained = bundle.manifest.model.maxLength
  const lengths = [...new Set([...(o.lengths ?? MAX_LENGTHS)].filter((l) => l <= trained))].sort((a, b) => b - a)
  if (!lengths.length) throw new RangeError(`no candidate max length at or under the model's ${trained} tokens`)
  if (!o.val.length) throw new RangeError('the val split is empty: nothing to score candidates on')
  const { k } = searchedK(bundle.manifest)
  const probe = await workerPathClassifier(bundle)
  // The longest val text: at every candidate length it reaches the cap if any val text does.
  const text = o.val.reduce((a, b) => (probe.tokenizer.ids(b.text).length > probe.tokenizer.ids(a.text).length ? b : a)).text
  const tokens = probe.tokenizer.ids(text).length
  const precision = bundle.manifest.precision?.model ?? 'fp32'
  const classifiers = await Promise.all(lengths.map((l) => workerPathClassifier(atMaxLength(bundle, l))))
  const samples = await cpuTakingTurns(classifiers, text, k, o.calls ?? 30)
  const candidates: ServingCandidate[] = []
  const seen = new Map<string, string>()
  for (const [i, maxLength] of lengths.entries()) {
    const cpu = summarize(samples[i])
    const c: ServingCandidate = { precision, maxLength, tokens: Math.min(tokens, maxLength), cpuMsP50: round(cpu.p50), cpuMsP90: round(cpu.p90), cpuMsP99: round(cpu.p99), valAccuracy: await servedAccuracy(classifiers[i], o.val, seen) }
    candidates.push(c)
    o.onCandidate?.(c)
  }
  const { chosen, met } = pickCandidate(candidates, o.budgetMs)
  return { budgetMs: o.budgetMs, method: CPU_BUDGET_METHOD, k, split: 'val', examples: o.val.length, candidates, chosen: { precision: chosen.precision, maxLength: chosen.maxLength }, met }
}

/** The build's hook: `manifest` served at the max length that fits `budgetMs`, with the `cpuBudget` record. */
export async function fitCpuBudget(files: Record<string, Uint8Array>, manifest: Manifest, budgetMs: number, val: readonly { text: string; label: string }[]): Promise<Manifest> {
  const all: Record<string, Uint8Array> = { ...files, 'manifest.json': new TextEncoder().encode(JSON.stringify(manifest)) }
  const bundle = await loadBundle(async (path) => all[path] ?? Promise.reject(new ArtifactError('missing_file', `${path}: not in the build`)))
  const record = await chooseCpuBudget(bundle, { budgetMs, val, onCandidate: (c) => process.stderr.write(`cpu budget: ${c.precision} at ${c.maxLength} tokens: ${c.cpuMsP50} ms CPU p50, ${c.cpuMsP90} p90, val accuracy ${c.valAccuracy.toFixed(4)}\n`) })
  return parseManifest({ ...manifest, model: { ...manifest.model, maxLength: record.chosen.maxLength }, cpuBudget: record })
}

const round = (x: number) => Math.round(x * 100) / 100
