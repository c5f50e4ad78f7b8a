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
import { ResMemClassifier } from '../../src/classifier.ts'
import type { OrtRuntime } from '../../src/model/runner.ts'
import { dirSource } from '../../src/node/source.ts'
import { nodeIndexFactory } from '../../src/node/index.ts'
import { ORT_BATCH } from '../../workers/ort-batch.ts'
import { QUANTIZED_MODEL_FILE } from '../build/precision.ts'
import { prepareModel } from '../build/pipeline.ts'
import { parseKeySpec } from '../export/index.ts'
import { quantizeModel } from '../export/quantize.ts'
import { searchedK } from './searched-k.ts'
import { summarize } from './stats.ts'

export interface CpuRow {
  model: 'fp32' | 'int8'
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

export async function benchCpu(o: { bundle: string; model: string; texts: readonly string[]; calls: number; onCall?: () => void }): Promise<CpuBench> {
  ortWeb.env.wasm.numThreads = 1
  ortWeb.env.wasm.proxy = false
  const ort = ortWeb as unknown as OrtRuntime
  const bundles = await bothModels(o.bundle, o.model)
  // Every call searches the memory (the served k, else the tuned k): the CPU of a ResMem answer, not the base's.
  const { k } = searchedK(bundles.int8.manifest)
  const rows: CpuRow[] = []
  for (const model of ['fp32', 'int8'] as const) {
    const classifier = await ResMemClassifier.create(bundles[model], { ort, createIndex: nodeIndexFactory('simd'), batchSize: ORT_BATCH })
    const count = (t: string) => classifier.tokenizer.ids(t).length
    const words = o.texts.join(' ').split(/\s+/).filter(Boolean)
    const big = (() => {
      let s = ''
      while (s.length < 1 << 20) s += o.texts.join('\n')
      return s.slice(0, 1 << 20)
    })()
    const texts = { '16': textOf(words, 16, count), '64': textOf(words, 64, count), '256': textOf(words, 256, count), '1MB': big }
    for (const [name, text] of Object.entries(texts) as [CpuRow['text'], string][]) {
      for (let i = 0; i < 3; i++) await classifier.classify([text], { params: { k } })
      const cpu: number[] = []
      const wall: number[] = []
      for (let i = 0; i < o.calls; i++) {
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        await classifier.classify([text], { params: { k } })
        const c = process.cpuUsage(c0)
        wall.push(performance.now() - t0)
        cpu.push((c.user + c.system) / 1000)
        o.onCall?.()
      }
      const round = (x: number) => Math.round(x * 100) / 100
      const c = summarize(cpu)
      rows.push({ model, text: name, tokens: Math.min(count(text), classifier.tokenizer.maxLength), chars: text.length, cpu_ms_p50: round(c.p50), cpu_ms_p99: round(c.p99), wall_ms_p50: round(summarize(wall).p50), calls: o.calls })
    }
  }
  return { method: METHOD, k, rows, modelBytes: { fp32: bundles.fp32.model.length, int8: bundles.int8.model.length } }
}

/** DIR/cpu.json as the issue specifies it: `{"rows": [{model, text, tokens, cpu_ms_p50, cpu_ms_p99}, ...]}` plus the method. */
export function cpuJson(r: CpuBench): string {
  return JSON.stringify({ method: r.method, k: r.k, modelBytes: r.modelBytes, rows: r.rows }, null, 2) + '\n'
}
