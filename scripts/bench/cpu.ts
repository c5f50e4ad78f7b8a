/**
 * CPU per classify call, the way Cloudflare counts it (CPU time, not wall time), fp32 vs int8 base model.
 *
 * Method: the worker's code path (ResMemClassifier with onnxruntime-web's wasm build, one thread, no proxy;
 * the SIMD k-NN kernel; ORT batches of ORT_BATCH; the bounded tokenizer) run in Node, which has the same V8
 * and runs the same .wasm, with `process.cpuUsage()` (user + system) around each call. workerd's own CPU
 * accounting (tail events' cpuTime) was not used: we did not find it reported by a local `wrangler dev`.
 *
 * Texts: words of the test split joined until the text has 16, 64 or 256 tokens (special tokens included),
 * and a 1 MB text (test texts repeated); `tokens` is what reached the model. Both models serve the bundle's
 * memory: an fp32 row runs the float32 graph against the int8 model's memory (or the reverse), which costs
 * the same search; accuracy is not measured here.
 */
import * as ortWeb from 'onnxruntime-web/wasm'
import { loadBundle, type Bundle } from '../../src/bundle/load.ts'
import type { CpuBudget } from '../../src/memory/manifest.ts'
import { dirSource } from '../../src/node/source.ts'
import { atMaxLength, chooseCpuBudget, cpuPerCall, servedAccuracy, workerPathClassifier } from '../build/cpu-budget.ts'
import { QUANTIZED_MODEL_FILE } from '../build/precision.ts'
import { prepareModel } from '../build/pipeline.ts'
import { parseKeySpec } from '../export/index.ts'
import { quantizeModel } from '../export/quantize.ts'
import { searchedK } from './searched-k.ts'

export interface CpuRow {
  /** `budget-<ms>`: the int8 bundle at the max length `resmem build --cpu-budget-ms <ms>` chooses. */
  model: 'fp32' | 'int8' | `budget-${number}`
  text: '16' | '64' | '256' | '1MB'
  /** Tokens that reached the model. */
  tokens: number
  /** Characters of the text sent. */
  chars: number
  cpu_ms_p50: number
  cpu_ms_p99: number
  wall_ms_p50: number
  calls: number
}

export interface CpuBench {
  method: string
  /** Neighbours every call searched (searched-k.ts). */
  k: number
  rows: CpuRow[]
  /** Bytes of each model file. */
  modelBytes: { fp32: number; int8: number }
  budget?: CpuBudgetBench
}

const METHOD =
  "Node's process.cpuUsage() (user+system) around each classify call of the worker's code path: onnxruntime-web wasm build, 1 thread, no proxy; SIMD k-NN; same V8 and .wasm as workerd"

/** The bundle's model and the other precision of it, with the bundle's memory. */
async function bothModels(bundleDir: string, modelDir: string): Promise<Record<'fp32' | 'int8', Bundle>> {
  const bundle = await loadBundle(dirSource(bundleDir))
  if (bundle.manifest.model.file === QUANTIZED_MODEL_FILE) {
    const fp32 = await prepareModel(modelDir, undefined, parseKeySpec(bundle.manifest.resmem.key))
    return { fp32: { ...bundle, model: fp32.model }, int8: bundle }
  }
  return { fp32: bundle, int8: { ...bundle, model: quantizeModel(bundle.model).bytes } }
}

/** Words of `source` joined until the tokenizer gives at least `tokens` ids. */
function textOf(words: readonly string[], tokens: number, count: (text: string) => number): string {
  let text = ''
  for (const word of words) {
    text = text ? `${text} ${word}` : word
    if (count(text) >= tokens) return text
  }
  throw new Error(`the test texts hold fewer than ${tokens} tokens`)
}

export interface CpuBudgetBench {
  /** What `resmem build --cpu-budget-ms` would record for the int8 bundle (scripts/build/cpu-budget.ts). */
  record: CpuBudget
  /** Served accuracy on the test split (memory as the bundle serves it), budgeted vs the trained max length. */
  test: { examples: number; budgeted: number; unbudgeted: number }
}

export interface CpuOptions {
  bundle: string
  model: string
  texts: readonly string[]
  calls: number
  onCall?: () => void
  /** Rows for a budget build (`"model": "budget-<ms>"`): fitted on val, scored on test. */
  budget?: { ms: number; val: readonly Labelled[]; test: readonly Labelled[] }
}

type Labelled = { text: string; label: string }

export async function benchCpu(o: CpuOptions): Promise<CpuBench> {
  ortWeb.env.wasm.numThreads = 1
  ortWeb.env.wasm.proxy = false
  const bundles = await bothModels(o.bundle, o.model)
  // Every call searches the memory (the served k, else the tuned k): the CPU of a ResMem answer, not the base's.
  const { k } = searchedK(bundles.int8.manifest)
  const rows: CpuRow[] = []
  let texts: Record<CpuRow['text'], string> | undefined
  const measure = async (model: CpuRow['model'], bundle: Bundle) => {
    const classifier = await workerPathClassifier(bundle)
    const count = (t: string) => classifier.tokenizer.ids(t).length
    texts ??= textsOf(o.texts, count)
    for (const [name, text] of Object.entries(texts) as [CpuRow['text'], string][]) {
      const c = await cpuPerCall(classifier, text, k, o.calls, o.onCall)
      rows.push({ model, text: name, tokens: Math.min(count(text), classifier.tokenizer.maxLength), chars: text.length, cpu_ms_p50: round(c.p50), cpu_ms_p99: round(c.p99), wall_ms_p50: round(c.wallP50), calls: o.calls })
    }
  }
  for (const model of ['fp32', 'int8'] as const) await measure(model, bundles[model])
  let budget: CpuBudgetBench | undefined
  if (o.budget) {
    const record = await chooseCpuBudget(bundles.int8, { budgetMs: o.budget.ms, val: o.budget.val, calls: o.calls })
    const budgeted = atMaxLength(bundles.int8, record.chosen.maxLength)
    await measure(`budget-${o.budget.ms}`, budgeted)
    const test = { examples: o.budget.test.length, budgeted: await servedAccuracy(await workerPathClassifier(budgeted), o.budget.test), unbudgeted: await servedAccuracy(await workerPathClassifier(bundles.int8), o.budget.test) }
    budget = { record, test }
  }
  return { method: METHOD, k, rows, modelBytes: { fp32: bundles.fp32.model.length, int8: bundles.int8.model.length }, ...(budget ? { budget } : {}) }
}

/** Texts of 16, 64 and 256 tokens (test words joined) and a 1 MB text (test texts repeated). */
function textsOf(source: readonly string[], count: (t: string) => number): Record<CpuRow['text'], string> {
  const words = source.join(' ').split(/\s+/).filter(Boolean)
  let big = ''
  while (big.length < 1 << 20) big += source.join('\n')
  return { '16': textOf(words, 16, count), '64': textOf(words, 64, count), '256': textOf(words, 256, count), '1MB': big.slice(0, 1 << 20) }
}

const round = (x: number) => Math.round(x * 100) / 100

/** DIR/cpu.json as the issue specifies it: `{"rows": [{model, text, tokens, cpu_ms_p50, cpu_ms_p99}, ...]}` plus the method. */
export function cpuJson(r: CpuBench): string {
  return JSON.stringify({ method: r.method, k: r.k, modelBytes: r.modelBytes, rows: r.rows, ...(r.budget ? { budget: r.budget } : {}) }, null, 2) + '\n'
}
