import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildWeb, formatReport, ROOT, type WebBuild } from '../../../scripts/web/build.ts'

describe('npm run build:web', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  async function build(): Promise<WebBuild> {
    const dir = await mkdtemp(join(tmpdir(), 'resmem-web-'))
    dirs.push(dir)
    return buildWeb(dir)
  }

  it('bundles the face, the worker, the demo and the runtime files, byte for byte the same each time', async () => {
    const [a, b] = [await build(), await build()]
    const paths = a.files.map((f) => f.path)
    for (const want of ['resmem.js', 'worker.js', 'demo.js', 'demo.css', 'index.html', 'knn-simd.wasm', 'ort/ort-wasm-simd-threaded.wasm', 'ort/ort-wasm-simd-threaded.jspi.wasm']) {
      expect(paths).toContain(want)
    }
    // One lazily imported chunk per onnxruntime-web build.
    expect(paths.filter((p) => /^chunks\/ort\.(wasm|jspi)\.bundle/.test(p))).toHaveLength(2)
    expect(b.files).toEqual(a.files)
    for (const f of a.files) expect((await readFile(join(b.outDir, f.path))).equals(await readFile(join(a.outDir, f.path))), f.path).toBe(true)
    for (const map of ['resmem.js.map', 'worker.js.map']) expect((await readFile(join(b.outDir, map))).equals(await readFile(join(a.outDir, map))), map).toBe(true)

    // Sourcemaps name sources relative to the output, never this machine's paths.
    const map = JSON.parse(await readFile(join(a.outDir, 'worker.js.map'), 'utf8')) as { sources: string[] }
    expect(map.sources).toContain('resmem-edge:///src/browser/worker.ts')
    expect(map.sources.filter((s) => !s.startsWith('resmem-edge:///') || s.includes('..') || s.includes(ROOT))).toEqual([])

    // No CDN: onnxruntime-web's files are fetched from where the page serves them.
    for (const f of a.files.filter((x) => x.path.endsWith('.js'))) {
      expect(await readFile(join(a.outDir, f.path), 'utf8'), f.path).not.toMatch(/cdn\.jsdelivr|unpkg\.com/)
    }

    const report = formatReport(a)
    expect(report).toMatch(/worker\.js\s+[\d.]+ KiB\s+[\d.]+ KiB/)
    expect(a.embedJs.gzip).toBeGreaterThan(0)
    expect(a.embedJs.gzip).toBeLessThan(a.embedJs.bytes)
  })
})
