/**
 * `npm run build:web`: the browser entry, its Web Worker and the demo page, bundled with esbuild into
 * dist/web/ (git-ignored), with the runtime files they fetch beside them:
 *
 *   dist/web/
 *     resmem.js           createClassifier() (src/browser/index.ts) for `<script type="module">`
 *     worker.js           the module Web Worker (src/browser/worker.ts)
 *     chunks/*.js         onnxruntime-web, WASM or WebGPU (JSPI) build, loaded by the worker on demand
 *     demo.js, demo.css, index.html   the demo page (src/browser/demo/)
 *     ort/*.wasm          onnxruntime-web's binaries, served by the page's own origin (never a CDN)
 *     knn-simd.wasm       the k-NN kernel (wasm/build/)
 *
 * ESM, minified, linked sourcemaps. Same sources, same bytes: esbuild is deterministic, chunk names are
 * content hashes, paths are relative to the repository and nothing records a time.
 * The ORT bundles embed their JavaScript glue, so only the .wasm files are copied, not the .mjs.
 *
 * Options: --out DIR (default dist/web).
 */
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { build, type BuildOptions } from 'esbuild'
import { ensureWasm, kernelPath } from '../../wasm/build.ts'
import { ORT_WASM } from '../../src/browser/ort.ts'
import { KNN_WASM } from '../../src/browser/knn.ts'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const WEB_OUT = join(ROOT, 'dist', 'web')
const BROWSER = join(ROOT, 'src', 'browser')
const SOURCE_SCHEME = 'resmem-edge:///'

export interface WebFile {
  /** Relative to the output folder, with forward slashes. */
  path: string
  bytes: number
  gzip: number
}

export interface WebBuild {
  outDir: string
  files: WebFile[]
  /** The JavaScript a page embedding the classifier on the WASM device loads: resmem.js, worker.js, the ORT chunk. */
  embedJs: { bytes: number; gzip: number }
}

const common: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome113', 'firefox121', 'safari17'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
  charset: 'utf8',
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
  }
  return out.sort()
}

/**
 * esbuild names sources relative to the output folder, so a build elsewhere (a temp dir, CI) would carry
 * this machine's layout. Name them from the repository root instead, as webpack does (`resmem-edge:///src/…`);
 * the maps embed the sources' text, so devtools need nothing else.
 */
async function rootRelativeSources(outDir: string): Promise<void> {
  for (const path of await listFiles(outDir)) {
    if (!path.endsWith('.map')) continue
    const file = join(outDir, path)
    const map = JSON.parse(await readFile(file, 'utf8')) as { sources: string[] }
    map.sources = map.sources.map((s) => `${SOURCE_SCHEME}${relative(ROOT, resolve(dirname(file), s)).split('\\').join('/')}`)
    await writeFile(file, JSON.stringify(map))
  }
}

export async function buildWeb(outDir = WEB_OUT): Promise<WebBuild> {
  await ensureWasm()
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })

  // The worker alone, split: each ORT build becomes a chunk that only its device imports.
  const worker = await build({
    ...common,
    entryPoints: { worker: join(BROWSER, 'worker.ts') },
    outdir: outDir,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  })
  // The face and the demo without splitting: both find worker.js as `new URL('./worker.js', import.meta.url)`,
  // which a shared chunk in chunks/ would resolve to the wrong folder.
  await build({
    ...common,
    entryPoints: { resmem: join(BROWSER, 'index.ts'), demo: join(BROWSER, 'demo', 'main.ts') },
    outdir: outDir,
  })

  await rootRelativeSources(outDir)

  const require = createRequire(import.meta.url)
  await mkdir(join(outDir, 'ort'), { recursive: true })
  for (const file of Object.values(ORT_WASM)) await copyFile(require.resolve(`onnxruntime-web/${file}`), join(outDir, 'ort', file))
  await copyFile(kernelPath('simd'), join(outDir, KNN_WASM))
  for (const file of ['index.html', 'demo.css']) await copyFile(join(BROWSER, 'demo', file), join(outDir, file))

  const files: WebFile[] = []
  for (const path of await listFiles(outDir)) {
    if (path.endsWith('.map')) continue
    const bytes = await readFile(join(outDir, path))
    files.push({ path, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length })
  }

  // What the WASM device loads: the face, the worker, the chunk holding ort.wasm.bundle and their static imports.
  const outputs = worker.metafile!.outputs
  const rel = (p: string) => relative(outDir, resolve(ROOT, p)).split('\\').join('/')
  const wasmChunk = Object.keys(outputs).find((o) => Object.keys(outputs[o].inputs).some((i) => i.endsWith('ort.wasm.bundle.min.mjs')))
  const embed = new Set(['resmem.js'])
  const visit = (out: string | undefined) => {
    if (!out || embed.has(rel(out))) return
    embed.add(rel(out))
    for (const i of outputs[out]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path)
  }
  visit(Object.keys(outputs).find((o) => o.endsWith('worker.js')))
  visit(wasmChunk)
  const picked = files.filter((f) => embed.has(f.path))
  const embedJs = { bytes: picked.reduce((s, f) => s + f.bytes, 0), gzip: picked.reduce((s, f) => s + f.gzip, 0) }
  return { outDir, files, embedJs }
}

/**
 * Builds the browser files and mirrors them into `dir` (the worker's static assets, `web/`), writing only
 * files whose bytes changed and removing the ones no longer built, so `wrangler dev` reloads only on change.
 */
export async function stageWeb(dir: string): Promise<WebBuild> {
  const report = await buildWeb()
  const built = await listFiles(report.outDir)
  for (const path of built) {
    const bytes = await readFile(join(report.outDir, path))
    const to = join(dir, path)
    if (existsSync(to) && bytes.equals(await readFile(to))) continue
    await mkdir(dirname(to), { recursive: true })
    await writeFile(to, bytes)
  }
  const keep = new Set(built)
  if (existsSync(dir)) for (const path of await listFiles(dir)) if (!keep.has(path)) await rm(join(dir, path))
  return report
}

export function formatReport(report: WebBuild): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`.padStart(12)
  const lines = [`build:web -> ${relative(ROOT, report.outDir) || '.'}`, `  ${'file'.padEnd(44)}${'raw'.padStart(12)}${'gzip'.padStart(12)}`]
  for (const f of report.files) lines.push(`  ${f.path.padEnd(44)}${kb(f.bytes)}${kb(f.gzip)}`)
  lines.push(`  ${'JS a page loads (WASM device)'.padEnd(44)}${kb(report.embedJs.bytes)}${kb(report.embedJs.gzip)}`)
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } })
  const started = performance.now()
  const report = await buildWeb(values.out ? resolve(values.out) : WEB_OUT)
  console.log(formatReport(report))
  console.log(`  ${Math.round(performance.now() - started)} ms`)
}
