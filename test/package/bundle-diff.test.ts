// The consumer test's bundle comparison: a difference comes out as a sentence that names the file and the field,
// checked on a copy of the shipped spam bundle with one thing changed at a time.
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { ROOT } from '../../scripts/package/build.ts'
import { bundleDifferences, jsonDifferences } from './bundle-diff.ts'

const SHIPPED = join(ROOT, 'artifacts', 'spam')
const tmp = mkdtempSync(join(tmpdir(), 'resmem-bundle-diff-'))
const copy = join(tmp, 'spam')
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

beforeEach(() => {
  rmSync(copy, { recursive: true, force: true })
  cpSync(SHIPPED, copy, { recursive: true })
})

describe('bundleDifferences', () => {
  it('finds none between a bundle and its copy', () => {
    expect(bundleDifferences(SHIPPED, copy)).toEqual([])
  })

  it("names manifest.json's versions.onnxruntime-node when only the runtime's version differs (the CI failure of issue 15)", () => {
    const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'))
    const here = manifest.versions['onnxruntime-node'] as string
    manifest.versions['onnxruntime-node'] = '1.31.1'
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
    expect(bundleDifferences(SHIPPED, copy)).toEqual([`manifest.json versions.onnxruntime-node: ${here} here, 1.31.1 there`])
  })

  it('names a changed byte of memory.bin and a missing file', () => {
    const memory = readFileSync(join(copy, 'memory.bin'))
    memory[100] ^= 1
    writeFileSync(join(copy, 'memory.bin'), memory)
    unlinkSync(join(copy, 'tokenizer_config.json'))
    expect(bundleDifferences(SHIPPED, copy)).toEqual([
      'tokenizer_config.json: here, not there',
      `memory.bin: ${memory.length} bytes here, ${memory.length} there, first difference at byte 100`,
    ])
  })

  it('reports JSON that differs only in its bytes (same fields, other spacing) as bytes', () => {
    const manifest = readFileSync(join(copy, 'manifest.json'), 'utf8')
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(JSON.parse(manifest)))
    const [only, ...rest] = bundleDifferences(SHIPPED, copy)
    expect(rest).toEqual([])
    expect(only).toMatch(/^manifest\.json: \d+ bytes here, \d+ there, first difference at byte \d+$/)
  })
})

describe('jsonDifferences', () => {
  it('is empty exactly when two JSON values are equal, and names a changed leaf by its path', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b)
        expect(jsonDifferences(a, a)).toEqual([])
        if (same) expect(jsonDifferences(a, b)).toEqual([])
        expect(jsonDifferences({ x: { y: a } }, { x: { y: b } }).every((d) => d.startsWith('x.y'))).toBe(true)
      }),
    )
    expect(jsonDifferences({ a: [1, 2] }, { a: [1, 3] })).toEqual(['a.1: 2 here, 3 there'])
    expect(jsonDifferences({ a: 1 }, {})).toEqual(['a: 1 here, absent there'])
  })
})
