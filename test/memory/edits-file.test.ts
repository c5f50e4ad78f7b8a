import { describe, expect, it } from 'vitest'
import { EDITS_FORMAT, EditsFileError, formatEditsLine, fromBase64, parseEditsFile, toBase64, type EditsHeader } from '../../src/memory/edits-file.ts'

const SHA = 'a'.repeat(64)
const HEADER: EditsHeader = { format: EDITS_FORMAT, formatVersion: 1, log: 'epoch-1', version: 3, model: SHA, base: 'b'.repeat(64), train: 'c'.repeat(64), labels: ['ham', 'spam'], dim: 3, keyScale: 0.01, temperature: 0.25 }
const add = (version: number, label = 'ham') => ({ version, op: 'add' as const, id: String(version), text: `t${version}`, label, key: toBase64(Int8Array.from([1, -2, 127])), residual: toBase64(Int8Array.from([-127, 5])), residualScale: 0.004, model: SHA, token: '0123456789abcdef', at: 1 })

describe('edits.jsonl', () => {
  it('round-trips the stored rows byte for byte and replays forgets', () => {
    expect(Array.from(fromBase64(toBase64(Int8Array.from([-128, -1, 0, 1, 127]))))).toEqual([-128, -1, 0, 1, 127])
    const text = [HEADER, add(1), add(2, 'spam'), { version: 3, op: 'forget', target: 'base:7', model: SHA, token: 'x', at: 2 }].map((l) => formatEditsLine(l as EditsHeader)).join('')
    const file = parseEditsFile(text, 'edits.jsonl')
    expect(file.ops).toEqual([
      { version: 1, op: 'add', row: { label: 0, key: Int8Array.from([1, -2, 127]), residual: Int8Array.from([-127, 5]), residualScale: 0.004 } },
      { version: 2, op: 'add', row: { label: 1, key: Int8Array.from([1, -2, 127]), residual: Int8Array.from([-127, 5]), residualScale: 0.004 } },
      { version: 3, op: 'forget', target: { kind: 'base', row: 7 } },
    ])
  })

  it('names the file, the line and the field of what is wrong', () => {
    const bad = (lines: unknown[]) => () => parseEditsFile(lines.map((l) => JSON.stringify(l)).join('\n'), 'e.jsonl')
    expect(() => parseEditsFile('', 'e.jsonl')).toThrow(/e\.jsonl: empty/)
    expect(bad([{ ...HEADER, format: 'x' }])).toThrow(/e\.jsonl: line 1: field "format"/)
    expect(bad([HEADER, add(2), add(1)])).toThrow(/line 3: field "version": 1 is not after 2/)
    expect(bad([HEADER, add(4)])).toThrow(/line 2: field "version": 4 is after the header's version 3/)
    expect(bad([HEADER, add(1, 'eggs')])).toThrow(/line 2: field "label": "eggs" is not one of the log's labels \(ham, spam\)/)
    expect(bad([HEADER, { ...add(1), key: toBase64(Int8Array.from([1])) }])).toThrow(/line 2: field "key": 1 bytes, the log's keys have 3/)
    expect(bad([HEADER, { ...add(1), model: 'd'.repeat(64) }])).toThrow(/line 2: field "model": encoded by model dddddddddddd…/)
    expect(bad([HEADER, { version: 1, op: 'forget', target: 'row 7', model: SHA, token: 'x', at: 1 }])).toThrow(/line 2: field "target"/)
    expect(() => parseEditsFile(`${JSON.stringify(HEADER)}\n{not json`, 'e.jsonl')).toThrow(EditsFileError)
  })
})
