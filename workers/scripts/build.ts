/**
 * `npm run build:worker`: everything the worker imports or serves that git does not hold.
 *  1. the k-NN kernel, wasm/build/knn-simd.wasm (built when missing or stale, as `npm run build:wasm`);
 *     onnxruntime-web's .wasm the worker imports from the onnxruntime-web package itself (workers/ort.ts);
 *  2. the assets directory workers/build/assets/: the files of every verified bundle in artifacts/<name>/,
 *     nothing else (artifacts/ also holds training scratch and half-written builds).
 *  3. the browser build (`npm run build:web`: demo page, browser entry and its worker, ORT .wasm) mirrored
 *     into the assets' web/ folder, served at `/` and `/web/*` by workers/routes/web.ts.
 * Files are written only when their bytes change, so `wrangler dev` does not reload for nothing.
 *
 * Options: --model NAME (the bundle that must be there, default $MODEL or "spam"), --allow-missing (stage
 * what exists without failing: the worker then answers 503 until the bundle is built), --artifacts DIR
 * (where the bundles are, default $RESMEM_ARTIFACTS or artifacts/).
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { BUNDLE_FILES } from '../../src/bundle/load.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { memoryParts } from '../../src/memory/parts.ts'
import { ensureWasm, kernelPath } from '../../wasm/build.ts'
import { stageWeb, type WebBuild } from '../../scripts/web/build.ts'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BUILD_DIR = join(ROOT, 'workers', 'build')
export const ASSETS_DIR = join(BUILD_DIR, 'assets')
export const ARTIFACTS_DIR = join(ROOT, 'artifacts')
/** The assets folder of the browser build (served by workers/routes/web.ts), not a bundle. */
export const WEB_DIR = 'web'
/** Workers Static Assets: the largest file. */
export const MAX_ASSET_BYTES = 25 * 1024 * 1024

export interface StagedBundle {
  name: string
  files: { path: string; bytes: number }[]
}

export interface BuildReport {
  kernel: string
  staged: StagedBundle[]
  skipped: { name: string; reason: string }[]
  web: WebBuild
}

async function sameFile(a: string, b: string): Promise<boolean> {
  if (!existsSync(b)) return false
  const [sa, sb] = await Promise.all([stat(a), stat(b)])
  if (sa.size !== sb.size) return false
  const [ba, bb] = await Promise.all([readFile(a), readFile(b)])
  return ba.equals(bb)
}

async function copyIfChanged(from: string, to: string): Promise<void> {
  if (await sameFile(from, to)) return
  await mkdir(dirname(to), { recursive: true })
  // Copy then rename: a wrangler reading the folder at the same moment sees the old file or the new one.
  const tmp = `${to}.${process.pid}.tmp`
  await copyFile(from, tmp)
  await rename(tmp, to)
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** The files of one built bundle, checked against its manifest; throws saying what is wrong. */
async function bundleFiles(dir: string): Promise<string[]> {
  const manifest = parseManifest(await readFile(join(dir, 'manifest.json')))
  const parts = memoryParts(manifest.memory)
  const projection = manifest.memory.projection ? [manifest.memory.projection] : []
  const files = [...BUNDLE_FILES, manifest.model.file, ...parts.map((p) => p.file), ...projection.map((p) => p.file)]
  for (const file of files) {
    const full = resolve(dir, file)
    if (!full.startsWith(dir + sep)) throw new Error(`${file}: outside the bundle`)
    if (!existsSync(full)) throw new Error(`${file}: missing`)
    const size = (await stat(full)).size
    if (size > MAX_ASSET_BYTES) throw new Error(`${file}: ${size} bytes, over the 25 MiB Workers Static Assets limit`)
  }
  for (const { file, sha256: want } of [manifest.model, ...parts, ...projection]) {
    if (sha256(await readFile(join(dir, file))) !== want) throw new Error(`${file}: SHA-256 differs from manifest.json (a build in progress?)`)
  }
  return files
}

/** Lists every file under `dir`, relative to it. */
async function walk(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)))
  }
  return out
}

/** Removes the folders under `dir` (not `dir` itself) that hold no file. */
async function removeEmptyDirs(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return true
  let empty = true
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory() && (await removeEmptyDirs(full))) await rm(full, { recursive: true })
    else empty = false
  }
  return empty
}

export async function stageAssets(artifacts = ARTIFACTS_DIR, assets = ASSETS_DIR): Promise<Pick<BuildReport, 'staged' | 'skipped'>> {
  const staged: StagedBundle[] = []
  const skipped: BuildReport['skipped'] = []
  const keep = new Set<string>()
  const names = existsSync(artifacts) ? (await readdir(artifacts, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name) : []
  for (const name of names.sort()) {
    const dir = join(artifacts, name)
    if (!existsSync(join(dir, 'manifest.json'))) continue
    // writeBundleAtomically's temporary siblings.
    if (/\.(tmp|old)-\d+$/.test(name)) continue
    if (name === WEB_DIR) {
      skipped.push({ name, reason: `the assets folder "${WEB_DIR}" holds the browser build` })
      continue
    }
    let files: string[]
    try {
      files = await bundleFiles(dir)
    } catch (err) {
      skipped.push({ name, reason: (err as Error).message })
      continue
    }
    for (const file of files) {
      await copyIfChanged(join(dir, file), join(assets, name, file))
      keep.add(join(name, file))
    }
    staged.push({ name, files: await Promise.all(files.map(async (path) => ({ path, bytes: (await stat(join(dir, path))).size }))) })
  }
  for (const file of await walk(assets)) if (!keep.has(file) && !file.startsWith(WEB_DIR + sep)) await rm(join(assets, file))
  await removeEmptyDirs(assets)
  await mkdir(assets, { recursive: true })
  return { staged, skipped }
}

export async function buildWorker(artifacts = ARTIFACTS_DIR): Promise<BuildReport> {
  await ensureWasm()
  const { staged, skipped } = await stageAssets(resolve(artifacts))
  const web = await stageWeb(join(ASSETS_DIR, WEB_DIR))
  return { kernel: kernelPath('simd'), staged, skipped, web }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Runs `build` holding a lock directory (mkdir is atomic), so builds started at once (each `wrangler dev`
 * start runs this; test files start workers in parallel) take turns instead of restaging the same folders
 * under each other. A lock whose process is gone is taken over.
 */
export async function withBuildLock<T>(build: () => Promise<T>, lock = join(BUILD_DIR, '.lock'), waitMs = 180_000): Promise<T> {
  await mkdir(dirname(lock), { recursive: true })
  const started = Date.now()
  for (;;) {
    try {
      await mkdir(lock)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => 'NaN'))
    const since = (await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now()
    // No pid yet: its owner is between mkdir and writeFile, unless that has lasted for seconds.
    const stale = Number.isInteger(owner) ? !alive(owner) : since < Date.now() - 5000
    if (stale) await rm(lock, { recursive: true, force: true })
    else if (Date.now() - started > waitMs) throw new Error(`build:worker: ${relative(ROOT, lock)} is held by process ${owner}; delete it if no build is running`)
    else await new Promise((resolve) => setTimeout(resolve, 100))
  }
  try {
    await writeFile(join(lock, 'pid'), String(process.pid))
    return await build()
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, artifacts: { type: 'string' }, 'allow-missing': { type: 'boolean' } } })
  const model = values.model ?? (process.env.MODEL || 'spam')
  const artifacts = values.artifacts ?? (process.env.RESMEM_ARTIFACTS || ARTIFACTS_DIR)
  const started = performance.now()
  const report = await withBuildLock(() => buildWorker(artifacts))
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`
  console.log(`build:worker  k-NN kernel ${relative(ROOT, report.kernel)}`)
  for (const b of report.staged) console.log(`  staged ${b.name}: ${b.files.length} files, ${mb(b.files.reduce((s, f) => s + f.bytes, 0))} -> ${relative(ROOT, ASSETS_DIR)}/${b.name}`)
  for (const s of report.skipped) console.warn(`  skipped artifacts/${s.name}: ${s.reason}`)
  console.log(`  staged the browser build (npm run build:web): ${report.web.files.length} files -> ${relative(ROOT, ASSETS_DIR)}/${WEB_DIR}`)
  console.log(`  ${Math.round(performance.now() - started)} ms`)
  if (!report.staged.some((b) => b.name === model)) {
    const message = `build:worker: no verified bundle ${relative(ROOT, join(resolve(artifacts), model))} (build it: npx tsx scripts/resmem.ts build-defaults --only ${model})`
    if (!values['allow-missing']) {
      console.error(message)
      process.exit(1)
    }
    console.warn(`${message}; the worker will answer 503 until it exists`)
  }
}
