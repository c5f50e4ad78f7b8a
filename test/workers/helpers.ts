import { env, exports } from 'cloudflare:workers'
import type { ServedModel } from '../../workers/classifier.ts'
import type { AssetsBinding } from '../../workers/env.ts'
import type { BundleFiles } from './bundle-files.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import type { Classification } from '../../src/types.ts'

export const ORIGIN = 'http://resmem.test'

/** A request through the whole worker, as wrangler runs it (asset routing included). */
export function worker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(`${ORIGIN}${path}`, init)
}

export function postJson(body: unknown, path = '/v1/classify'): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }
}

export { env }

/** A stand-in model for route and error tests: labels a/b, scores from the text length, no ORT. */
export function fakeModel(overrides: Partial<ServedModel> = {}): ServedModel {
  const manifest = { name: 'fake', labels: ['a', 'b'], memory: { rows: 3 } } as unknown as Manifest
  return {
    manifest,
    runtime: { onnxruntime: 'none', knn: 'none', loadMs: 0 },
    async classify(texts, options = {}) {
      return texts.map((text): Classification => {
        const p = text.length % 2 === 0 ? 0.75 : 0.25
        const scores = [
          { label: 'a', score: p },
          { label: 'b', score: 1 - p },
        ].sort((x, y) => y.score - x.score)
        const result: Classification = { label: scores[0].label, score: scores[0].score, scores, base: { label: scores[0].label, score: scores[0].score, scores }, truncated: false }
        if (options.explain) result.neighbors = [{ source: 'built', row: 0, label: 'a', similarity: 1, weight: 1 }]
        return result
      })
    },
    served: () => ({ builtMemory: 'on', k: 2, radius: null, learnedRows: 0, novelty: false, alpha: null, labels: [{ label: 'a', source: 'model' }, { label: 'b', source: 'model' }] }),
    ...overrides,
  }
}

/** The bundle that wrangler.toml's MODEL names is staged in the assets (`npm run build:worker`). */
export const MODEL = env.MODEL || 'spam'
export const modelStaged = (await env.ASSETS.fetch(`http://assets/${MODEL}/manifest.json`)).ok
// `npm test` builds and stages the bundle first (pretest); without it these tests cannot say anything.
if (!modelStaged) throw new Error(`test/workers: no staged bundle "${MODEL}": run \`npx tsx scripts/resmem.ts build-defaults --only ${MODEL}\` and \`npm run build:worker\``)

/** The files as the bundle folder `folder` behind an ASSETS binding; everything else from the staged assets. */
export function staged(folder: string, initial: BundleFiles) {
  let files = initial
  let reads = 0
  const binding: AssetsBinding = {
    async fetch(input, init) {
      const req = new Request(input, init)
      const path = new URL(req.url).pathname.slice(1)
      if (!path.startsWith(`${folder}/`)) return env.ASSETS.fetch(req)
      reads++
      const bytes = files.get(path.slice(folder.length + 1))
      return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>) : new Response('not found', { status: 404 })
    },
  }
  return { binding, reads: () => reads, replace: (next: BundleFiles) => (files = next) }
}

/** The staged bundle's manifest. */
export const STAGED_MANIFEST = (await (await env.ASSETS.fetch(`http://assets/${MODEL}/manifest.json`)).json()) as Manifest
/** The staged bundle's model file: onnx/model.onnx, or onnx/model_quantized.onnx for an int8 base model. */
export const MODEL_FILE = STAGED_MANIFEST.model.file
/**
 * The k tuned on val. Tests of the memory's rows ask for it (`?k=`): the build may have turned the shipped
 * memory off (served k = 0, manifest memory.decision), and then only an explicit k searches the built rows.
 */
export const TUNED_K = STAGED_MANIFEST.tuning.best.k
