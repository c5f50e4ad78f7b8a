/**
 * `npm run build:dist` (also `prepack`, so `npm pack` and `npm publish` always ship a fresh build): the
 * package's JavaScript and .d.ts in dist/, and the files that code reads beside itself at run time.
 *
 *   dist/src/       the core, resmem-edge/node, resmem-edge/browser (+ its Web Worker)
 *   dist/workers/   resmem-edge/workers (createApp, resmemRoutes)
 *   dist/scripts/   the `resmem` CLI (bin: dist/scripts/resmem.js)
 *   dist/wasm/build/knn-{simd,scalar}.wasm   the k-NN kernel (the Node entry reads it, the worker imports it)
 *
 * Built with tsc (tsconfig.build.json), one .js and one .d.ts per source file: the sources already import
 * with .ts extensions, which rewriteRelativeImportExtensions turns into .js, and the static .wasm imports stay
 * as written, for the user's wrangler to bundle. A bundler would have had to be told to leave those alone and
 * would still need tsc for the .d.ts. Same sources, same bytes. dist/web (`npm run build:web`) is left alone.
 */
import { execFile } from 'node:child_process'
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { ensureWasm, kernelPath } from '../../wasm/build.ts'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const DIST = join(ROOT, 'dist')
/** What tsc writes under dist/ (tsconfig.build.json's rootDir is the repository). */
const EMITTED = ['src', 'workers', 'scripts', 'wasm']
export const BIN = join(DIST, 'scripts', 'resmem.js')
const SHEBANG = '#!/usr/bin/env node\n'

/** Files the built code reads relative to itself, copied to the same place under dist/. */
const RUNTIME_FILES = [
  // scripts/commands/train.ts runs it with python.
  'scripts/train/train.py',
  // src/node/index.ts reads them; workers/knn.ts imports knn-simd.wasm.
  relative(ROOT, kernelPath('simd')),
  relative(ROOT, kernelPath('scalar')),
]

export interface DistBuild {
  files: number
  bytes: number
  ms: number
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) out.push(join(entry.parentPath, entry.name))
  return out
}

export async function buildDist(): Promise<DistBuild> {
  const started = performance.now()
  await ensureWasm()
  // A source removed since the last build must not linger in the package.
  await Promise.all(EMITTED.map((dir) => rm(join(DIST, dir), { recursive: true, force: true })))
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, maxBuffer: 16 << 20 })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(`build:dist: tsc failed\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
  for (const file of RUNTIME_FILES) {
    await mkdir(dirname(join(DIST, file)), { recursive: true })
    await copyFile(join(ROOT, file), join(DIST, file))
  }
  const bin = await readFile(BIN, 'utf8')
  if (!bin.startsWith(SHEBANG)) throw new Error(`build:dist: ${relative(ROOT, BIN)} must start with "${SHEBANG.trim()}" (scripts/resmem.ts's first line)`)
  await chmod(BIN, 0o755)

  const files = (await Promise.all(EMITTED.map((dir) => listFiles(join(DIST, dir))))).flat()
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size))
  return { files: files.length, bytes: sizes.reduce((s, n) => s + n, 0), ms: Math.round(performance.now() - started) }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await buildDist()
  console.log(`build:dist -> dist/{${EMITTED.join(',')}}: ${report.files} files, ${(report.bytes / 1024).toFixed(0)} KiB, ${report.ms} ms`)
}
