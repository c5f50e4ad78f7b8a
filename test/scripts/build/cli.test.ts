import { mkdtemp, readFile, writeFile, cp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resmem } from '../resmem-cli.ts'
import { readLabelledJsonl, formatJsonl } from '../../../scripts/data/index.ts'

const MODEL = 'models/spam'


describe('resmem build', () => {
  let dir: string
  let train: string
  let val: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resmem-build-'))
    // Small slices of the real splits keep the test quick while exercising the whole pipeline.
    train = join(dir, 'train.jsonl')
    val = join(dir, 'val.jsonl')
    await writeFile(train, formatJsonl((await readLabelledJsonl('data/spam/train.jsonl')).slice(0, 160)))
    await writeFile(val, formatJsonl((await readLabelledJsonl('data/spam/val.jsonl')).slice(0, 60)))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('builds a verified bundle, byte for byte the same twice (no CPU budget: --cpu-budget-ms off)', async () => {
    const a = await resmem('build', '--model', MODEL, '--train', train, '--val', val, '--out', join(dir, 'a'), '--k', '1,4,8', '--sigma', '0.1,1', '--temperature', '1,2', '--key', 'penultimate', '--cpu-budget-ms', 'off')
    expect(a.stderr + a.stdout).toMatch(/wrote/)
    expect(a.code).toBe(0)
    const b = await resmem('build', '--model', MODEL, '--train', train, '--val', val, '--out', join(dir, 'b'), '--k', '1,4,8', '--sigma', '0.1,1', '--temperature', '1,2', '--key', 'penultimate', '--cpu-budget-ms', 'off')
    expect(b.code).toBe(0)
    const manifest = JSON.parse(await readFile(join(dir, 'a', 'manifest.json'), 'utf8'))
    // --quantize-model auto (the default) says what it chose and writes that model under its transformers.js name.
    expect(manifest.precision.choice).toBe('auto')
    expect(manifest.model.file).toBe(manifest.precision.model === 'int8' ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx')
    expect(manifest.precision.valAccuracy.fp32 - manifest.precision.valAccuracy.int8 <= 0.002 + 1e-9).toBe(manifest.precision.model === 'int8')
    expect(a.stdout).toMatch(new RegExp(`base model: ${manifest.precision.model} \\(${manifest.model.file}`))
    for (const f of ['memory.bin', 'manifest.json', manifest.model.file, 'tokenizer.json']) {
      expect(await readFile(join(dir, 'b', f))).toEqual(await readFile(join(dir, 'a', f)))
    }
    expect(manifest.memory.rows).toBe(160)
    expect(manifest.cpuBudget, '--cpu-budget-ms off measures nothing').toBeUndefined()
    expect(manifest.model.maxLength).toBe(256)
    expect(manifest.tuning.grid).toHaveLength(12)
    expect(manifest.labels).toEqual(['ham', 'spam'])
  }, 240_000)

  it('refuses an unknown --quantize-model', async () => {
    const r = await resmem('build', '--model', MODEL, '--train', train, '--val', val, '--out', join(dir, 'q'), '--quantize-model', 'int4')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/--quantize-model: expected one of auto, fp32, int8, got "int4"/)
  })

  it('names the missing flag', async () => {
    const r = await resmem('build', '--train', train)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/missing --model/)
  })

  it('names the model folder and the file it lacks', async () => {
    const r = await resmem('build', '--model', dir, '--train', train, '--val', val, '--out', join(dir, 'x'))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(new RegExp(`${dir}.*config\\.json`))
  })

  it('names the file, the example and the field of a label the model does not know', async () => {
    const bad = join(dir, 'bad.jsonl')
    await writeFile(bad, formatJsonl([{ text: 'a', label: 'ham' }, { text: 'b', label: 'eggs' }]))
    const r = await resmem('build', '--model', MODEL, '--train', bad, '--val', val, '--out', join(dir, 'x'))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/bad\.jsonl: example 2: field "label": "eggs" is not a label of the model/)
  })

  it('a failed build leaves the previous good build in place', async () => {
    const out = join(dir, 'keep')
    await cp(join(dir, 'a'), out, { recursive: true })
    const before = await readFile(join(out, 'memory.bin'))
    const broken = join(dir, 'broken-model')
    await cp(MODEL, broken, { recursive: true })
    await writeFile(join(broken, 'onnx', 'model.onnx'), 'not an onnx graph')
    const r = await resmem('build', '--model', broken, '--train', train, '--val', val, '--out', out)
    expect(r.code).not.toBe(0)
    expect(await readFile(join(out, 'memory.bin'))).toEqual(before)
  })
})
