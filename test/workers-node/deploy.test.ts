// `wrangler deploy --dry-run`: the worker bundles, each static asset is under the 25 MiB per-file limit and
// the worker under the 64 MiB script limit. Prints the sizes (raw and gzip).
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, expect, it } from 'vitest'
import { ASSETS_DIR, MAX_ASSET_BYTES, ROOT } from '../../workers/scripts/build.ts'

const MiB = 1024 * 1024
const MAX_WORKER_BYTES = 64 * MiB
const outdir = mkdtempSync(join(tmpdir(), 'resmem-dry-run-'))
afterAll(() => rmSync(outdir, { recursive: true, force: true }))

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
}

it('wrangler deploy --dry-run fits the Workers limits', async () => {
  const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' },
    maxBuffer: 16 * MiB,
  })
  const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout)
  expect(reported, stdout).not.toBeNull()

  // What is uploaded as the script: the bundle and its wasm modules (not the local README or source map).
  const modules = files(outdir).filter((f) => !f.endsWith('.map') && !f.endsWith('README.md'))
  const raw = modules.reduce((s, f) => s + statSync(f).size, 0)
  const gzip = modules.reduce((s, f) => s + gzipSync(readFileSync(f), { level: 9 }).length, 0)
  expect(modules.some((f) => f.endsWith('ort-wasm-simd-threaded.wasm'))).toBe(true)
  expect(modules.some((f) => f.endsWith('knn-simd.wasm'))).toBe(true)
  expect(raw).toBeLessThanOrEqual(MAX_WORKER_BYTES)

  const assets = files(ASSETS_DIR).map((f) => ({ path: relative(ASSETS_DIR, f), bytes: statSync(f).size }))
  for (const a of assets) expect(a.bytes, a.path).toBeLessThanOrEqual(MAX_ASSET_BYTES)
  const assetBytes = assets.reduce((s, a) => s + a.bytes, 0)

  const mib = (n: number) => `${(n / MiB).toFixed(2)} MiB`
  console.log(
    [
      `dry-run worker: ${modules.length} modules, ${mib(raw)} raw / ${mib(gzip)} gzip (wrangler: ${reported![1]} KiB / gzip ${reported![2]} KiB); limit ${mib(MAX_WORKER_BYTES)}`,
      ...modules.map((f) => `  ${relative(outdir, f)}: ${mib(statSync(f).size)}`),
      `static assets: ${assets.length} files, ${mib(assetBytes)}; largest ${assets.length ? mib(Math.max(...assets.map((a) => a.bytes))) : '-'} (limit ${mib(MAX_ASSET_BYTES)} each)`,
      ...assets.map((a) => `  ${a.path}: ${mib(a.bytes)}`),
    ].join('\n'),
  )
})
