/**
 * The edge path in a browser: our browser library (src/browser: a module Web Worker, onnxruntime-web's wasm
 * build, the SIMD k-NN kernel searching k neighbours) against transformers.js' text-classification pipeline
 * with `device: 'wasm'` on the same ONNX file (dtype q8 for the int8 bundle, fp32 for an fp32 one), in Debian's
 * Chromium through playwright-core, every file served from this machine (no CDN). One text per call, the same
 * texts, taking turns per text; the clock in the page covers the whole call.
 *
 *   npx tsx scripts/bench/browser-compare.ts [texts] [fp32 bundle dir]   (not run by the tests)
 *
 * Needs `npm run build:worker` (workers/build/assets/web holds the browser library).
 */
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve } from 'node:path'
import { chromium } from 'playwright-core'
import { parseManifest } from '../../src/memory/manifest.ts'
import { readFileSync } from 'node:fs'
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/helpers/chromium.ts'
import { searchedK } from './searched-k.ts'
import { median, summarize } from './stats.ts'
import { loadTexts } from './texts.ts'

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html', '.onnx': 'application/octet-stream', '.bin': 'application/octet-stream' }

/** A static server: URL prefix -> folder. */
function serve(routes: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>compare</title>')
    const prefix = Object.keys(routes).find((p) => path.startsWith(p))
    const file = prefix ? normalize(join(routes[prefix], path.slice(prefix.length))) : undefined
    if (!file || !file.startsWith(routes[prefix!]) || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    createReadStream(file).pipe(res)
  })
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)))
}

export interface BrowserCompareRow {
  precision: 'int8' | 'fp32'
  texts: number
  k: number
  ours: { p50: number; p99: number }
  oursK0: { p50: number; p99: number }
  /** Our model run alone (`embed`: tokenize, onnxruntime-web, the worker round trip; no search, no combine). */
  oursEmbed: { p50: number; p99: number }
  /** The worker round trip alone (`classify([])`: comlink, no text). */
  roundTrip: { p50: number; p99: number }
  transformers: { p50: number; p99: number }
  /** Median over texts of ours / theirs (ResMem at k). */
  pairedRatio: number
  ratioP50: number
  labelsAgree: number
}

export async function compareInBrowser(o: { texts: string[]; bundles: Partial<Record<'int8' | 'fp32', string>> }): Promise<BrowserCompareRow[]> {
  const root = resolve('.')
  const routes: Record<string, string> = {
    '/web/': join(root, 'workers/build/assets/web') + '/',
    '/tf/': join(root, 'node_modules/@huggingface/transformers/dist') + '/',
    '/tfort/': join(root, 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist') + '/',
  }
  for (const [p, dir] of Object.entries(o.bundles)) {
    routes[`/bundle/${p}/`] = resolve(dir) + '/'
    routes[`/models/spam-${p}/`] = resolve(dir) + '/'
  }
  const server = await serve(routes)
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  const rows: BrowserCompareRow[] = []
  try {
    for (const [precision, dir] of Object.entries(o.bundles) as ['int8' | 'fp32', string][]) {
      const manifest = parseManifest(readFileSync(join(dir, 'manifest.json')))
      const { k } = searchedK(manifest)
      const page = await browser.newPage()
      page.setDefaultTimeout(600_000)
      // tsx compiles the function below with esbuild's keepNames, which calls a __name helper the page lacks.
      await page.addInitScript({ content: 'globalThis.__name = (f) => f' })
      await page.goto(url)
      const r = await page.evaluate(
        async ({ precision, texts, k }) => {
          const { createClassifier } = await import('/web/resmem.js' as string)
          const ours = await createClassifier({ modelUrl: `/bundle/${precision}/`, device: 'wasm', cache: false })
          const T = await import('/tf/transformers.js' as string)
          T.env.allowRemoteModels = false
          T.env.allowLocalModels = true
          T.env.localModelPath = '/models/'
          T.env.useBrowserCache = false
          T.env.backends.onnx.wasm.wasmPaths = '/tfort/'
          T.env.backends.onnx.wasm.numThreads = 1
          const theirs = await T.pipeline('text-classification', `spam-${precision}`, { device: 'wasm', dtype: precision === 'int8' ? 'q8' : 'fp32' })
          const calls = {
            ours: (t: string) => ours.classify(t, { params: { k } }),
            oursK0: (t: string) => ours.classify(t, { params: { k: 0 } }),
            oursEmbed: (t: string) => ours.embed([t]),
            roundTrip: () => ours.classify([]),
            theirs: (t: string) => theirs(t),
          } as Record<string, (t: string) => Promise<unknown>>
          const names = Object.keys(calls)
          for (const t of texts.slice(0, 5)) for (const n of names) await calls[n](t)
          const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]))
          let agree = 0
          let searched = 0
          for (const [i, t] of texts.entries()) {
            const answers: Record<string, unknown> = {}
            for (let j = 0; j < names.length; j++) {
              const n = names[(i + j) % names.length]
              const t0 = performance.now()
              answers[n] = await calls[n](t)
              times[n].push(performance.now() - t0)
            }
            const mine = answers.ours as { label: string; base: { label: string } }
            const other = (answers.theirs as { label: string }[])[0] ?? (answers.theirs as { label: string })
            if (mine.base.label === other.label) agree++
          }
          const probe = (await ours.classify(texts[0], { params: { k }, explain: true })) as { neighbors?: unknown[] }
          searched = probe.neighbors?.length ?? 0
          ours.dispose()
          return { times, agree, searched, device: ours.device }
        },
        { precision, texts: o.texts, k },
      )
      if (r.searched !== Math.min(k, manifest.memory.rows)) throw new Error(`${precision}: our library searched ${r.searched} neighbours, want k=${k}`)
      const s = (xs: number[]) => {
        const x = summarize(xs)
        return { p50: x.p50, p99: x.p99 }
      }
      rows.push({
        precision,
        texts: o.texts.length,
        k,
        ours: s(r.times.ours),
        oursK0: s(r.times.oursK0),
        oursEmbed: s(r.times.oursEmbed),
        roundTrip: s(r.times.roundTrip),
        transformers: s(r.times.theirs),
        pairedRatio: median(r.times.ours.map((t, i) => t / r.times.theirs[i])),
        ratioP50: summarize(r.times.ours).p50 / summarize(r.times.theirs).p50,
        labelsAgree: r.agree,
      })
      await page.close()
    }
  } finally {
    await browser.close()
    server.close()
  }
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [n = '60', fp32] = process.argv.slice(2)
  const rows = await compareInBrowser({ texts: loadTexts('data/spam/test.jsonl', Number(n)), bundles: { int8: 'artifacts/spam', ...(fp32 ? { fp32 } : {}) } })
  console.log('precision  texts  k  ours p50 (k=0, embed only, round trip)  transformers.js p50  ours/theirs p50  paired median  labels agree')
  for (const r of rows) console.log(`${r.precision.padEnd(9)}  ${String(r.texts).padStart(5)}  ${r.k}  ${r.ours.p50.toFixed(2)} (${r.oursK0.p50.toFixed(2)}, ${r.oursEmbed.p50.toFixed(2)}, ${r.roundTrip.p50.toFixed(2)})  ${r.transformers.p50.toFixed(2).padStart(19)}  ${r.ratioP50.toFixed(3).padStart(15)}  ${r.pairedRatio.toFixed(3).padStart(13)}  ${r.labelsAgree}/${r.texts}`)
  console.log(JSON.stringify(rows))
}
