// `resmem eval --model --memory --test` on every kind of build `resmem build` writes, each built for real from
// slices of the spam data (a few dozen texts) with the shipped spam model: int8 and fp32 models, memory on and
// off, parts, projected keys, folded edits; `--model` as the source folder and as the bundle itself. The
// resmem-int8 row must score what the bundle itself answers (loadClassifier on the same texts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildResMem, type BuildOptions } from '../../../scripts/build/pipeline.ts'
import { CliError } from '../../../scripts/cli/errors.ts'
import { run } from '../../../scripts/commands/eval.ts'
import { formatJsonl, readLabelledJsonl, type LabelledExample } from '../../../scripts/data/index.ts'
import { sha256Hex } from '../../../src/memory/checksum.ts'
import { EDITS_FORMAT, formatEditsLine, toBase64, type EditsHeader } from '../../../src/memory/edits-file.ts'
import { readMemory } from '../../../src/memory/format.ts'
import { loadClassifier } from '../../../src/node/index.ts'

const MODEL = 'models/spam'
const SLICES = { train: 40, val: 24, test: 24 }
const GRID = { k: [1, 4], sigma: [0.1, 1], temperature: [0.25, 1] }

const dir = mkdtempSync(join(tmpdir(), 'resmem-eval-build-'))
const data = join(dir, 'data')
const file = (split: keyof typeof SLICES) => join(data, `${split}.jsonl`)
let test: LabelledExample[]

afterAll(() => rmSync(dir, { recursive: true, force: true }))

beforeAll(async () => {
  mkdirSync(data)
  for (const split of Object.keys(SLICES) as (keyof typeof SLICES)[]) {
    const rows = await readLabelledJsonl(`data/spam/${split}.jsonl`)
    // Both labels in every slice: spam mails are rarer, so take each label's first rows.
    const n = SLICES[split]
    let picked = [...rows.filter((r) => r.label === 'spam').slice(0, n / 4), ...rows.filter((r) => r.label === 'ham').slice(0, n - n / 4)]
    // Every third test label flipped: the model gets those wrong, so an accuracy far from 1 can tell two sets of
    // answers apart.
    if (split === 'test') picked = picked.map((r, i) => (i % 3 === 0 ? { ...r, label: r.label === 'spam' ? 'ham' : 'spam' } : r))
    writeFileSync(file(split), formatJsonl(picked))
  }
  test = await readLabelledJsonl(file('test'))
}, 60_000)

async function build(name: string, options: Partial<BuildOptions>): Promise<string> {
  const out = join(dir, name)
  await buildResMem({ model: MODEL, train: file('train'), val: file('val'), out, grid: GRID, key: 'penultimate', ...options })
  return out
}

interface EvalJson {
  rows: { method: string; accuracy: number; params: Record<string, number> }[]
  memory: 'on' | 'off'
  examples: { train: number; val: number; test: number }
}

async function evaluate(model: string, bundle: string): Promise<EvalJson> {
  const out = join(dir, 'eval-' + Math.random().toString(36).slice(2))
  await run(['--model', model, '--memory', bundle, '--test', file('test'), '--out', out])
  return JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as EvalJson
}

/** The accuracy of the bundle's own answers on the test slice, as the Node library serves them. */
async function servedAccuracy(bundle: string): Promise<number> {
  const results = await (await loadClassifier(bundle)).classify(test.map((e) => e.text))
  return results.filter((r, i) => r.label === test[i].label).length / test.length
}

async function expectScoresTheBuild(bundle: string, models: string[]): Promise<EvalJson> {
  const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'))
  const served = await servedAccuracy(bundle)
  let last: EvalJson | undefined
  for (const model of models) {
    const result = await evaluate(model, bundle)
    expect(result.examples, model).toEqual({ train: SLICES.train, val: SLICES.val, test: SLICES.test })
    expect(result.memory, model).toBe(manifest.memory.decision.on ? 'on' : 'off')
    const int8 = result.rows.find((r) => r.method === 'resmem-int8')!
    expect(int8.accuracy, `${model}: resmem-int8 is the bundle's own answers`).toBe(served)
    expect(served, 'a third of the labels are flipped').toBeLessThan(0.9)
    expect(int8.params.k, model).toBe(manifest.resmem.k)
    expect(result.rows.map((r) => r.method)).toEqual(expect.arrayContaining(['base', 'knn', 'resmem-fp32', 'resmem-int8', 'naive-bayes', 'tfidf-logreg']))
    last = result
  }
  return last!
}

describe('resmem eval --model --memory --test, on every kind of build', () => {
  it('an int8 model with the memory on, from the source folder and from the bundle', async () => {
    const bundle = await build('int8-on', { quantizeModel: 'int8', memory: 'on' })
    expect(JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')).model.file).toBe('onnx/model_quantized.onnx')
    await expectScoresTheBuild(bundle, [MODEL, bundle])
  }, 180_000)

  it('an fp32 model with the memory off, from the source folder and from the bundle', async () => {
    const bundle = await build('fp32-off', { quantizeModel: 'fp32', memory: 'off' })
    const result = await expectScoresTheBuild(bundle, [MODEL, bundle])
    expect(result.rows.find((r) => r.method === 'resmem-int8')!.params.k).toBe(0)
  }, 180_000)

  it('a memory in parts', async () => {
    const bundle = await build('parts', { quantizeModel: 'int8', memory: 'on', maxPartBytes: 4096 })
    expect(JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')).memory.parts.length).toBeGreaterThan(1)
    await expectScoresTheBuild(bundle, [MODEL, bundle])
  }, 180_000)

  it('keys projected to 16 dimensions', async () => {
    const bundle = await build('key-dim', { quantizeModel: 'int8', memory: 'on', keyDim: 16 })
    expect(JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')).memory.dim).toBe(16)
    await expectScoresTheBuild(bundle, [MODEL, bundle])
  }, 180_000)

  it('folded edits (an added row and a forgotten built row)', async () => {
    const options: Partial<BuildOptions> = { quantizeModel: 'int8', memory: 'on' }
    const plain = await build('before-edits', options)
    const manifest = JSON.parse(readFileSync(join(plain, 'manifest.json'), 'utf8'))
    const bytes = readFileSync(join(plain, 'memory.bin'))
    const memory = await readMemory(bytes)
    if (memory.keys.dtype !== 'int8' || memory.residuals.dtype !== 'int8') throw new Error('expected an int8 memory')
    const { dim, labels } = memory
    const header: EditsHeader = {
      format: EDITS_FORMAT, formatVersion: 1, log: 'eval-test', version: 2, model: manifest.model.sha256, base: await sha256Hex(bytes), train: manifest.data.train.sha256,
      labels, dim, keyScale: memory.keys.scale, temperature: manifest.resmem.temperature,
    }
    // The learned row: a copy of built row 0's stored bytes, under its label.
    const add = { version: 1, op: 'add' as const, id: '1', text: 'learned', label: labels[memory.rowLabels[0]], key: toBase64(memory.keys.data.subarray(0, dim)), residual: toBase64(memory.residuals.data.subarray(0, labels.length)), residualScale: memory.residuals.scales[0], model: manifest.model.sha256, token: 't', at: 0 }
    const edits = join(dir, 'edits.jsonl')
    writeFileSync(edits, formatEditsLine(header) + formatEditsLine(add) + formatEditsLine({ version: 2, op: 'forget', target: 'base:3', model: manifest.model.sha256, token: 't', at: 0 }))
    const bundle = await build('folded', { ...options, edits })
    const folded = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'))
    expect(folded.edits.version).toBe(2)
    expect(folded.memory.rows).toBe(SLICES.train)
    await expectScoresTheBuild(bundle, [MODEL, bundle])
  }, 240_000)

  it("refuses a model that is not the build's, naming both fingerprints", async () => {
    const bundle = join(dir, 'fp32-off')
    await expect(run(['--model', 'models/langid', '--memory', bundle, '--test', file('test')])).rejects.toThrow(CliError)
    await expect(run(['--model', 'models/langid', '--memory', bundle, '--test', file('test')])).rejects.toThrow(/memory\.bin: built for model [0-9a-f]{12}…, but models\/langid gives [0-9a-f]{12}…/)
  }, 120_000)
})
