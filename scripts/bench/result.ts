/** bench.json: what one `resmem bench` run measured, and the targets it was held to. */
import type { LatencyResult } from './http-latency.ts'
import type { KernelRow } from './kernel-core.ts'
import type { LearningBench } from './learning.ts'
import type { PoisoningBench } from './poisoning.ts'
import type { LoadResult } from './load.ts'
import type { MemoryBench } from './memory.ts'
import type { NodeCompareResult } from './node-compare.ts'
import type { ScaleBench } from './scale.ts'
import type { NewLabelBench } from './new-label/index.ts'
import { newLabelChecks } from './new-label/rows.ts'

export const SECTIONS = ['kernel', 'latency', 'node', 'load', 'memory', 'learning', 'scale', 'cpu', 'poisoning', 'new-label'] as const
export type Section = (typeof SECTIONS)[number]

export const TARGETS = {
  /** SIMD kernel, median GB/s of int8 keys scanned. */
  simdGbPerS: 10,
  /** SIMD kernel, times the TypeScript reference (median per query, same size, same run). */
  simdOverReference: 15,
  /** Worker latency, full ResMem over base model only (k=0). */
  resmemOverBase: 1.1,
  /** In-process Node, ours over the transformers.js pipeline: no slower. */
  oursOverTransformers: 1.0,
  /** Scale: 100k x 384 (the widest keys) in the worker's own isolate, resmem over base, p50. */
  scaleOneIsolate: 1.1,
  /** Scale: the largest memory over 8 Durable Object shards, resmem over base, p50. */
  scaleEightShards: 1.5,
  /** Scale: the worker isolate holding the 384-dim memory, MiB (a deployed isolate has 128 MB). */
  scaleIsolateMiB: 100,
  /** Spam test accuracy lost by learning the casual notes, in points. */
  learningSpamDropPoints: 0.1,
}

export interface TargetCheck {
  section: Section
  name: string
  value: number
  /** `<=` or `>=` the limit. */
  op: '>=' | '<='
  limit: number
  pass: boolean
}

export interface WorkerLatency extends LatencyResult {
  model: string
  memoryRows: number
  /** The k the `resmem` variant searched (scripts/bench/searched-k.ts): the served k, else the tuned k. */
  k: number
  kFrom: 'stated' | 'served' | 'tuned'
  /** ms, p50 of GET /healthz (no model work): the HTTP and dev-proxy share of every request. */
  healthzP50: number
  /** resmem/base; `netP50` subtracts healthzP50 from both (the ratio a worker without wrangler's dev proxy would see, roughly). */
  ratio: { p50: number; p99: number; pairedMedian: number; netP50: number }
}

import type { CpuBench } from './cpu.ts'
import type { CostTable } from './cost.ts'

export interface BenchResult {
  format: 'resmem-bench'
  version: 1
  startedAt: string
  seconds: number
  quick: boolean
  sections: Section[]
  machine: { cpus: number; cpuModel: string; node: string; platform: string; loadAvgStart: number[]; loadAvgEnd: number[] }
  versions: Record<string, string>
  kernel?: { rows: KernelRow[]; settings: { batches: number; batchMs: number } }
  latency?: WorkerLatency[]
  /** One comparison per onnxruntime-node thread setting. */
  node?: { bundle: string; k: number; runs: NodeCompareResult[] }
  load?: LoadResult[]
  /** Live edits: classify latency with learned rows, write latency (scripts/bench/memory.ts). */
  memory?: MemoryBench
  /** Learning at the edge: casual notes, half split (scripts/bench/learning.ts). */
  learning?: LearningBench
  /** Memories past one asset and one isolate: parts, Durable Object shards (scripts/bench/scale.ts; DIR/scale.json). */
  scale?: ScaleBench
  /** CPU per call, fp32 vs int8 base model, worker code path in Node (scripts/bench/cpu.ts); also DIR/cpu.json. */
  cpu?: CpuBench
  /** Cost per million classifications from `cpu`'s CPU per text and published prices (scripts/bench/cost.ts). */
  cost?: CostTable
  /** What one wrong edit changes in other answers (scripts/bench/poisoning.ts). */
  poisoning?: PoisoningBench
  /** A label the base never saw, learned from n sentences, against anchors (scripts/bench/new-label; DIR/new-label.json). */
  newLabel?: NewLabelBench
  targets: TargetCheck[]
  /** Sections that failed, with the reason: their numbers are missing above. */
  failures: { section: Section; message: string }[]
  notes: string[]
}

function check(section: Section, name: string, value: number, op: '>=' | '<=', limit: number): TargetCheck {
  return { section, name, value, op, limit, pass: op === '>=' ? value >= limit : value <= limit }
}

/** Every target, evaluated on what was measured. */
export function evaluateTargets(r: Pick<BenchResult, 'kernel' | 'latency' | 'node' | 'load' | 'learning' | 'scale' | 'cpu' | 'newLabel'>): TargetCheck[] {
  const out: TargetCheck[] = []
  for (const k of r.kernel?.rows ?? []) {
    if (k.impl !== 'simd') continue
    const ref = r.kernel!.rows.find((x) => x.runtime === k.runtime && x.rows === k.rows && x.impl === 'reference')
    out.push(check('kernel', `${k.runtime} simd ${k.rows} rows GB/s`, k.gbPerS, '>=', TARGETS.simdGbPerS))
    if (ref) out.push(check('kernel', `${k.runtime} simd ${k.rows} rows x reference`, ref.msPerQuery / k.msPerQuery, '>=', TARGETS.simdOverReference))
  }
  for (const l of r.latency ?? []) {
    out.push(check('latency', `worker ${l.model} (${l.memoryRows} rows) resmem/base p50`, l.ratio.p50, '<=', TARGETS.resmemOverBase))
    out.push(check('latency', `worker ${l.model} (${l.memoryRows} rows) resmem/base p99`, l.ratio.p99, '<=', TARGETS.resmemOverBase))
    out.push(check('latency', `worker ${l.model} (${l.memoryRows} rows) resmem/base p50 net of GET /healthz`, l.ratio.netP50, '<=', TARGETS.resmemOverBase))
  }
  for (const run of r.node?.runs ?? []) {
    const t = run.variants['transformers.js']
    for (const v of ['resmem k=0', 'resmem'] as const) {
      for (const p of ['p50', 'p99'] as const) out.push(check('node', `node threads=${run.threads} ${v} / transformers.js ${p}`, run.variants[v][p] / t[p], '<=', TARGETS.oursOverTransformers))
    }
  }
  for (const l of r.load ?? []) out.push(check('load', `${l.target} c=${l.connections} errors+timeouts+non2xx`, l.errors + l.timeouts + l.non2xx, '<=', 0))
  // Micro-batching: the worker's req/s at 16 connections, on over off, in the same run (issue 12: >= 1.5).
  const at16 = (target: string) => r.load?.find((l) => l.target === target && l.connections === 16)
  const [on, off] = [at16('worker (workerd)'), at16('worker (workerd, MICRO_BATCH=off)')]
  if (on && off) out.push(check('load', 'worker c=16 req/s, micro-batching on / off', on.requestsPerS / off.requestsPerS, '>=', 1.5))
  for (const x of r.scale?.failed ?? []) out.push(check('scale', `scale ${x.rows} x ${x.dim} shards=${x.shards} measured (configurations that failed)`, 1, '<=', 0))
  const largest = Math.max(...(r.scale?.rows ?? []).map((x) => x.rows))
  for (const x of r.scale?.rows ?? []) {
    const name = `scale ${x.rows} x ${x.dim} shards=${x.shards}`
    // Searched on both sides and equal: a row whose top-k is empty fails (sameTopK in scale.ts).
    out.push(check('scale', `${name} top-k identical to the single scan (texts differing)`, x.identical_topk ? 0 : Math.max(1, x.differing), '<=', 0))
    if (x.shards === 0 && x.dim === 384) {
      out.push(check('scale', `${name} resmem/base p50`, x.ratio_p50, '<=', TARGETS.scaleOneIsolate))
      if (x.isolate_mib !== null) out.push(check('scale', `${name} isolate MiB`, x.isolate_mib, '<=', TARGETS.scaleIsolateMiB))
    }
    if (x.shards === 8 && x.rows === largest) out.push(check('scale', `${name} resmem/base p50`, x.ratio_p50, '<=', TARGETS.scaleEightShards))
  }
  // The budget build's CPU (scripts/build/cpu-budget.ts) on the texts that reach its max length.
  const budget = r.cpu?.budget?.record.budgetMs
  for (const c of r.cpu?.rows ?? []) {
    if (budget !== undefined && c.model === `budget-${budget}` && (c.text === '256' || c.text === '1MB')) out.push(check('cpu', `cpu ${c.model} ${c.text} text p50 ms`, c.cpu_ms_p50, '<=', budget))
  }
  const spam = r.learning?.notes.spamTest
  if (spam) out.push(check('learning', 'spam test accuracy points lost by learning the casual notes', 100 * (spam.before - spam.after), '<=', TARGETS.learningSpamDropPoints))
  for (const c of newLabelChecks(r.newLabel?.rows ?? [])) out.push(check('new-label', c.name, c.value, c.op, c.limit))
  return out
}

/** Sections with targets: one of them that ran and checked nothing has measured nothing it is named for. */
export const TARGETED: readonly Section[] = ['kernel', 'latency', 'node', 'load', 'learning', 'scale', 'cpu', 'new-label']

/**
 * Failures for what checked nothing: a targeted section that ran (and did not fail otherwise) with no target
 * evaluated, or a run with no target at all ("0/0 pass" is not a pass).
 */
export function uncheckedFailures(r: Pick<BenchResult, 'sections' | 'targets' | 'failures'>): BenchResult['failures'] {
  const out: BenchResult['failures'] = []
  for (const section of r.sections) {
    if (!TARGETED.includes(section) || r.failures.some((f) => f.section === section)) continue
    if (!r.targets.some((t) => t.section === section)) out.push({ section, message: `${section}: no target was evaluated (nothing measured that its targets name)` })
  }
  if (r.targets.length === 0 && out.length === 0 && r.failures.length === 0) out.push({ section: r.sections[0] ?? 'kernel', message: 'no target was evaluated: 0/0 is not a pass' })
  return out
}
