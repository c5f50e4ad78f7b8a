// `resmem build --cpu-budget-ms`: the flag end to end on small slices of the real spam splits.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resmem } from '../resmem-cli.ts'
import { parseManifest } from '../../../src/memory/manifest.ts'
import { formatJsonl, readLabelledJsonl } from '../../../scripts/data/index.ts'



describe('resmem build --cpu-budget-ms', () => {
  let dir: string
  let train: string
  let val: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resmem-budget-'))
    train = join(dir, 'train.jsonl')
    val = join(dir, 'val.jsonl')
    await writeFile(train, formatJsonl((await readLabelledJsonl('data/spam/train.jsonl')).slice(0, 120)))
    await writeFile(val, formatJsonl((await readLabelledJsonl('data/spam/val.jsonl')).slice(0, 40)))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('by default (free): serves the max length chosen within 10 ms and records every candidate in manifest.json', async () => {
    // No --cpu-budget-ms: a user who does not think about it gets a build for the Workers Free plan.
    const r = await resmem('build', '--model', 'models/spam', '--train', train, '--val', val, '--out', join(dir, 'b'), '--k', '1,4', '--sigma', '0.1', '--temperature', '1', '--key', 'penultimate', '--quantize-model', 'int8')
    expect(r.code, r.stderr).toBe(0)
    const m = parseManifest(await readFile(join(dir, 'b', 'manifest.json')))
    expect(m.cpuBudget).toMatchObject({ budgetMs: 10, split: 'val', examples: 40 })
    expect(m.cpuBudget!.candidates.map((c) => c.maxLength)).toEqual([256, 192, 160, 128, 96, 64, 48, 32])
    expect(m.model.maxLength).toBe(m.cpuBudget!.chosen.maxLength)
    const chosen = m.cpuBudget!.candidates.find((c) => c.maxLength === m.model.maxLength)!
    if (m.cpuBudget!.met) expect(chosen.cpuMsP50).toBeLessThanOrEqual(8)
    expect(r.stdout).toMatch(new RegExp(`cpu budget 10 ms, measured on this machine .*serving int8 at ${m.model.maxLength} tokens`))
  }, 300_000)

  it('refuses a budget that is not a positive number of ms, "free" or "off"', async () => {
    const r = await resmem('build', '--model', 'models/spam', '--train', train, '--val', val, '--out', join(dir, 'x'), '--cpu-budget-ms', 'lots')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/--cpu-budget-ms: want a number of milliseconds > 0, "free" or "off", got "lots"/)
  })
})
