/**
 * Builds the k-NN kernel (assembly/knn.ts) into build/knn-simd.wasm and build/knn-scalar.wasm.
 *
 * Run: `npm run build:wasm` (also the `pretest` step). Options live in asconfig.json, one target per
 * build, so the CLI `asc --config wasm/asconfig.json --target simd` gives the same bytes.
 *
 * Each target is compiled twice and the bytes compared: the worker ships these files, and the same
 * source must give the same .wasm (reproducible deploys, cache keys by hash).
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

export type KernelTarget = 'simd' | 'scalar'

export interface BuiltKernel {
  target: KernelTarget
  /** Absolute path of the written .wasm. */
  path: string
  bytes: Uint8Array<ArrayBuffer>
  sha256: string
  /** False when the file on disk already had these bytes (left untouched). */
  written: boolean
}

export interface BuildOptions {
  /** Compile each target twice and fail unless the bytes match. Default true. */
  verify?: boolean
}

const wasmDir = dirname(fileURLToPath(import.meta.url))
const targets: readonly KernelTarget[] = ['simd', 'scalar']
const ascBin = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js')
const run = promisify(execFile)

/** Where a target's .wasm lands. */
export function kernelPath(target: KernelTarget): string {
  return join(wasmDir, 'build', `knn-${target}.wasm`)
}

/** Compiles one asconfig target with the asc CLI into `outFile`; returns the .wasm bytes. */
async function compile(target: KernelTarget, outFile: string): Promise<Uint8Array<ArrayBuffer>> {
  // A child `node asc.js` rather than `import('assemblyscript/asc')`: under tsx that import alone
  // takes ~8 s (its loader passes binaryen's multi-MB bundle through esbuild); plain node, 0.4 s.
  const args = [ascBin, '--config', join(wasmDir, 'asconfig.json'), '--target', target, '--outFile', outFile]
  try {
    await run(process.execPath, args)
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string }
    throw new Error(`asc failed for target ${target}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
  return new Uint8Array(await readFile(outFile))
}

/** Builds (without the double-compile check) when a .wasm is missing or older than its sources. */
export async function ensureWasm(): Promise<void> {
  const sources = [join(wasmDir, 'assembly', 'knn.ts'), join(wasmDir, 'asconfig.json')]
  const newest = Math.max(...sources.map((s) => statSync(s).mtimeMs))
  const stale = targets.some((t) => !existsSync(kernelPath(t)) || statSync(kernelPath(t)).mtimeMs < newest)
  if (stale) await buildWasm({ verify: false })
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path))
  } catch {
    return undefined
  }
}

/** Builds both kernels; writes a file only when its bytes changed. */
export async function buildWasm(options: BuildOptions = {}): Promise<BuiltKernel[]> {
  const verify = options.verify ?? true
  await mkdir(join(wasmDir, 'build'), { recursive: true })
  const scratch = await mkdtemp(join(tmpdir(), 'knn-wasm-'))
  try {
    return await Promise.all(targets.map((target) => buildTarget(target, verify, scratch)))
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

async function buildTarget(target: KernelTarget, verify: boolean, scratch: string): Promise<BuiltKernel> {
  const bytes = await compile(target, join(scratch, `${target}-1.wasm`))
  if (verify) {
    const again = await compile(target, join(scratch, `${target}-2.wasm`))
    if (!sameBytes(bytes, again)) throw new Error(`non-deterministic build: two compiles of ${target} differ`)
  }
  if (!WebAssembly.validate(bytes)) throw new Error(`asc emitted an invalid module for ${target}`)
  const path = kernelPath(target)
  const old = await readIfExists(path)
  const written = !old || !sameBytes(old, bytes)
  if (written) {
    // Tests in parallel workers may build at the same moment: rename makes each write atomic.
    const tmp = `${path}.${process.pid}.tmp`
    await writeFile(tmp, bytes)
    await rename(tmp, path)
  } else {
    // Touch it anyway, so "older than its sources" (ensureWasm) means "not rebuilt since".
    const now = new Date()
    await utimes(path, now, now)
  }
  return { target, path, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), written }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const verify = !process.argv.includes('--no-verify')
  const started = performance.now()
  const built = await buildWasm({ verify })
  for (const k of built) {
    console.log(`${k.written ? 'wrote    ' : 'unchanged'} wasm/build/knn-${k.target}.wasm  ${k.bytes.length} B  sha256 ${k.sha256.slice(0, 16)}`)
  }
  console.log(`${verify ? 'deterministic (each target compiled twice, bytes equal); ' : ''}${Math.round(performance.now() - started)} ms`)
}
