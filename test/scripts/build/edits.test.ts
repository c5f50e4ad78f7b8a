import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { foldInto, readEditsFile } from '../../../scripts/build/edits.ts'
import { sha256Hex } from '../../../src/memory/checksum.ts'
import { EDITS_FORMAT, formatEditsLine, toBase64, type EditsHeader } from '../../../src/memory/edits-file.ts'
import { writeMemory } from '../../../src/memory/format.ts'
import { LABELS, drawExamples, encode, memoryOf } from '../../memory/segments/fixtures.ts'

const dir = mkdtempSync(join(tmpdir(), 'resmem-edits-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const MODEL = '0'.repeat(64)

describe('resmem build --edits', () => {
  it('folds a log encoded for this memory; refuses one encoded for another, naming the field', async () => {
    const examples = drawExamples(12, 4, 3, 5)
    const base = memoryOf(examples.slice(0, 10), 4, 0.25)
    const scale = base.keys.dtype === 'int8' ? base.keys.scale : NaN
    const row = encode(examples[10], 0.25, scale)
    const header: EditsHeader = { format: EDITS_FORMAT, formatVersion: 1, log: 'e', version: 2, model: MODEL, base: await sha256Hex(await writeMemory(base)), train: MODEL, labels: LABELS, dim: 4, keyScale: scale, temperature: 0.25 }
    const lines = [
      formatEditsLine(header),
      formatEditsLine({ version: 1, op: 'add', id: '1', text: 'x', label: LABELS[row.label], key: toBase64(row.key), residual: toBase64(row.residual), residualScale: row.residualScale, model: MODEL, token: 't', at: 0 }),
      formatEditsLine({ version: 2, op: 'forget', target: 'base:3', model: MODEL, token: 't', at: 0 }),
    ]
    const file = join(dir, 'edits.jsonl')
    writeFileSync(file, lines.join(''))
    const edits = await readEditsFile(file, { fingerprint: MODEL, labels: LABELS, dim: 4 })
    const folded = await foldInto(edits, base)
    expect(folded.memory.rows).toBe(10)
    expect(folded.edits).toMatchObject({ version: 2, log: 'e', forgotten: [[3, 3]], ids: [[1, 1]] })
    expect(Array.from((folded.memory.keys.data as Int8Array).subarray(9 * 4))).toEqual(Array.from(row.key))

    await expect(readEditsFile(file, { fingerprint: 'f'.repeat(64), labels: LABELS, dim: 4 })).rejects.toThrow(/edits\.jsonl: line 1: field "model": the edits were encoded by model 000000000000…, this build's model is ffffffffffff…/)
    await expect(readEditsFile(file, { fingerprint: MODEL, labels: ['x', 'y'], dim: 4 })).rejects.toThrow(/field "labels"/)
    await expect(readEditsFile(join(dir, 'missing.jsonl'), { fingerprint: MODEL, labels: LABELS, dim: 4 })).rejects.toThrow(/--edits .*missing\.jsonl: cannot be read/)
    const other = memoryOf(examples.slice(0, 9), 4, 0.25)
    await expect(foldInto(edits, other)).rejects.toThrow(/edits\.jsonl: line 1: field "base": the edits were encoded for memory .* build with the same model, training and validation files/)
  })
})
