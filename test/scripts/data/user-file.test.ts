import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CliError } from '../../../scripts/cli/errors.ts'
import { readLabelledJsonl, readUserFile } from '../../../scripts/data/index.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'resmem-data-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const fields = { textField: 'text', labelField: 'label' }

/** Writes `content` to a fresh file and returns its path. */
async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

/** The CliError message a read fails with, with the temp folder removed so messages read like the CLI's. */
async function failure(read: Promise<unknown>): Promise<string> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CliError)
  return (err as CliError).message.replaceAll(`${dir}/`, '')
}

describe('readUserFile: JSONL', () => {
  it('reads objects, turns numeric labels into strings, skips blank lines, tolerates BOM and CRLF', async () => {
    const path = await file('ok.jsonl', '\uFEFF{"text":"a","label":"x"}\r\n\n{"text":"b","label":1,"extra":true}\n')
    expect(await readUserFile(path, fields)).toEqual([
      { text: 'a', label: 'x' },
      { text: 'b', label: '1' },
    ])
  })

  it('uses the named fields', async () => {
    const path = await file('named.jsonl', '{"body":"hello","y":"pos"}\n')
    expect(await readUserFile(path, { textField: 'body', labelField: 'y' })).toEqual([{ text: 'hello', label: 'pos' }])
  })

  it.each([
    ['bad JSON', '{"text":"a","label":"x"}\n{"text":"b","label":"x"}\n{"text": oops}\n', /^x\.jsonl:3: not valid JSON: /],
    ['not an object', '{"text":"a","label":"x"}\n["a","x"]\n', /^x\.jsonl:2: expected a JSON object, got an array$/],
    ['missing text', '{"label":"x"}\n', /^x\.jsonl:1: field "text": missing$/],
    ['non-string text', '{"text":42,"label":"x"}\n', /^x\.jsonl:1: field "text": must be a string, got a number$/],
    ['empty text', '{"text":"a","label":"x"}\n{"text":"  ","label":"x"}\n', /^x\.jsonl:2: field "text": empty$/],
    ['missing label', '{"text":"a"}\n', /^x\.jsonl:1: field "label": missing$/],
    ['null label', '{"text":"a","label":null}\n', /^x\.jsonl:1: field "label": must be a string or a number, got null$/],
    ['object label', '{"text":"a","label":{"k":1}}\n', /^x\.jsonl:1: field "label": must be a string or a number, got an object$/],
    ['boolean label', '{"text":"a","label":true}\n', /^x\.jsonl:1: field "label": must be a string or a number, got a boolean$/],
    ['empty label', '{"text":"a","label":""}\n', /^x\.jsonl:1: field "label": empty$/],
  ])('%s', async (_, content, message) => {
    const path = await file('x.jsonl', content)
    expect(await failure(readUserFile(path, fields))).toMatch(message)
  })
})

describe('readUserFile: CSV', () => {
  it('reads a header row, quoted fields with commas, quotes and newlines', async () => {
    const path = await file('ok.csv', 'id,text,label\n1,"hello, ""world""",pos\n2,"two\nlines",neg\n')
    expect(await readUserFile(path, fields)).toEqual([
      { text: 'hello, "world"', label: 'pos' },
      { text: 'two\nlines', label: 'neg' },
    ])
  })

  it('reports the line a record starts on, after multi-line fields, blank lines and CRLF', async () => {
    const rows = ['text,label', '"a\nb",x', '', 'c,y', '"d\n\ne"', 'f,z']
    const path = await file('reviews.csv', rows.join('\r\n'))
    // "d..." starts on line 6 (the first record spans lines 2-3) and has no label cell.
    expect(await failure(readUserFile(path, fields))).toBe('reviews.csv:6: field "label": missing')
  })

  it('reports a missing label cell on the last line without a trailing newline', async () => {
    const path = await file('reviews.csv', 'text,label\na,x\nb')
    expect(await failure(readUserFile(path, fields))).toBe('reviews.csv:3: field "label": missing')
  })

  it.each([
    ['empty text cell', 'text,label\na,x\n,y\n', 'x.csv:3: field "text": empty'],
    ['empty label cell', 'text,label\na,x\nb,\n', 'x.csv:3: field "label": empty'],
    ['unknown column', 'body,label\na,x\n', 'x.csv:1: field "text": no such column (columns: body, label)'],
  ])('%s', async (_, content, message) => {
    const path = await file('x.csv', content)
    expect(await failure(readUserFile(path, fields))).toBe(message)
  })

  it('reports broken quoting with a line', async () => {
    const path = await file('x.csv', 'text,label\na,x\n"open,y\n')
    expect(await failure(readUserFile(path, fields))).toMatch(/^x\.csv:\d+: not valid CSV: /)
  })
})

describe('readUserFile: the file itself', () => {
  it('rejects unknown extensions, missing files and files without rows', async () => {
    expect(await failure(readUserFile(join(dir, 'data.txt'), fields))).toMatch(/^data\.txt: unknown extension ".txt"/)
    expect(await failure(readUserFile(join(dir, 'nope.jsonl'), fields))).toBe('nope.jsonl: cannot read: ENOENT')
    const empty = await file('empty.csv', 'text,label\n')
    expect(await failure(readUserFile(empty, fields))).toBe('empty.csv: no examples')
  })
})

describe('readLabelledJsonl', () => {
  it('reads prepared splits', async () => {
    const path = await file('train.jsonl', '{"text":"a","label":"ham"}\n{"text":"b","label":"spam"}\n')
    expect(await readLabelledJsonl(path)).toEqual([
      { text: 'a', label: 'ham' },
      { text: 'b', label: 'spam' },
    ])
  })

  it('gives the same file:line: field messages', async () => {
    const path = await file('test.jsonl', '{"text":"a","label":"ham"}\n{"text":"b"}\n')
    expect(await failure(readLabelledJsonl(path))).toBe('test.jsonl:2: field "label": missing')
    const bad = await file('bad.jsonl', '{"text":"a","label":"ham"}\n{"text":"b", "label":\n')
    expect(await failure(readLabelledJsonl(bad))).toMatch(/^bad\.jsonl:2: not valid JSON: /)
  })
})
