import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildWasm, kernelPath } from '../../wasm/build.ts'

describe('wasm build', () => {
  it('is deterministic, and the files on disk are the current build', async () => {
    // verify: each target compiled twice, bytes compared (throws otherwise).
    const built = await buildWasm({ verify: true })
    expect(built.map((b) => b.target)).toEqual(['simd', 'scalar'])
    for (const b of built) {
      expect(new Uint8Array(readFileSync(kernelPath(b.target)))).toEqual(b.bytes)
      expect(b.bytes.length).toBeLessThan(4096)
    }
    expect(built[0].sha256).not.toBe(built[1].sha256)
  })
})
