import { mkdtemp, readFile, readdir, rm, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeBundleAtomically } from '../../../scripts/build/output.ts'
import { bundleFiles } from '../../helpers/bundle.ts'

describe('writeBundleAtomically', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resmem-out-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('writes a bundle that verifies, replacing the old one', async () => {
    const out = join(dir, 'ok')
    await mkdir(out)
    await writeFile(join(out, 'stale.txt'), 'old')
    const files = Object.fromEntries(await bundleFiles())
    await writeBundleAtomically(out, files)
    expect(await readFile(join(out, 'memory.bin'))).toEqual(Buffer.from(files['memory.bin']))
    expect(await readdir(out)).not.toContain('stale.txt')
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-') || f.includes('.old-'))).toEqual([])
  })

  it('keeps the previous build when the new one does not verify', async () => {
    const out = join(dir, 'keep')
    const good = Object.fromEntries(await bundleFiles())
    await writeBundleAtomically(out, good)
    const bad = Object.fromEntries(await bundleFiles({ dim: 5 })) // memory dim disagrees with the model
    await expect(writeBundleAtomically(out, bad)).rejects.toThrow(/failed verification and was not written.*dimensions/)
    for (const [path, bytes] of Object.entries(good)) {
      await mkdir(dirname(join(out, path)), { recursive: true })
      expect(await readFile(join(out, path))).toEqual(Buffer.from(bytes))
    }
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([])
  })
})
