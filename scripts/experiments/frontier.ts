/**
 * The size/accuracy frontier on our data: does a small base + memory match a larger base?
 *
 *   npx tsx scripts/experiments/frontier.ts [--dataset langid] [--sizes 32x1,64x1,128x2] [--epochs 6]
 *
 * For each base size (hidden x layers) it trains a model (`resmem train`, skipped when
 * artifacts/frontier/<dataset>/<size>/model exists), scores it with `resmem eval`'s table (every choice on
 * val, test read once) and builds its bundle with the memory forced on at the tuned point, to time the Node
 * library per text (one text per call, k = 0 vs the tuned k, same process, alternating). Each size's points are
 * kept in artifacts/frontier/<dataset>/<size>/points.json (delete it to measure again). Writes
 * out/frontier/<dataset>.json and an SVG plot of test accuracy against latency and against bytes.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensurePrepared, isDefaultDataset } from '../build/defaults.ts'
import { buildResMem } from '../build/pipeline.ts'
import { run as train } from '../commands/train.ts'
import { evaluate } from '../eval/run.ts'
import { readLabelledJsonl } from '../data/index.ts'
import { loadClassifier } from '../../src/node/index.ts'
import { parseKeySpec } from '../export/index.ts'
import { median } from '../bench/stats.ts'

interface Point {
  size: string
  parameters: number
  memory: 'off' | 'on'
  accuracy: number
  low: number
  high: number
  /** Model bytes (+ memory bytes with the memory). */
  bytes: number
  /** Median ms per text, Node library, one text per call. */
  msPerText: number
  valOn: boolean
}

const { values } = parseArgs({ options: { dataset: { type: 'string' }, sizes: { type: 'string' }, epochs: { type: 'string' } } })
const dataset = values.dataset ?? 'langid'
if (!isDefaultDataset(dataset)) throw new Error(`--dataset: ${dataset} is not a shipped dataset`)
const sizes = (values.sizes ?? '32x1,64x1,128x2').split(',')
const paths = await ensurePrepared(dataset)
const texts = (await readLabelledJsonl(paths.test)).slice(0, 200).map((e) => e.text)
const points: Point[] = []
const maxLength = dataset === 'langid' ? 64 : 256
const vocab = dataset === 'langid' ? 4000 : 8000

for (const size of sizes) {
  const [hidden, layers] = size.split('x').map(Number)
  const root = join('artifacts', 'frontier', dataset, size)
  // A size measured before (same data, same model) is not measured again.
  const cached = join(root, 'points.json')
  if (existsSync(cached)) {
    points.push(...(JSON.parse(readFileSync(cached, 'utf8')) as Point[]))
    continue
  }
  // The shipped model when it is this size: no need to train it again.
  const shipped = JSON.parse(readFileSync(join(paths.model, 'config.json'), 'utf8')) as { hidden_size: number; num_hidden_layers: number }
  const model = shipped.hidden_size === hidden && shipped.num_hidden_layers === layers ? paths.model : join(root, 'model')
  if (!existsSync(join(model, 'config.json'))) {
    const heads = Math.max(1, hidden / 32)
    await train(['--data', paths.data, '--out', model, '--work', join(root, 'work'), '--epochs', values.epochs ?? '6', '--hidden', String(hidden), '--layers', String(layers), '--heads', String(heads), '--max-length', String(maxLength), '--vocab-size', String(vocab)])
  }
  const result = await evaluate({ dataset, model, train: paths.train, val: paths.val, test: paths.test })
  const base = result.rows.find((r) => r.method === 'base')!
  const memoryRow = result.rows.find((r) => r.method === 'resmem-int8 (off; if on)') ?? result.rows.find((r) => r.method === 'resmem-int8')!
  // Timing needs a bundle with the memory searched: forced on at the point the eval tuned.
  const bundle = join(root, 'bundle')
  const p = memoryRow.params
  await buildResMem({ model, train: paths.train, val: paths.val, out: bundle, name: `${dataset}-${size}`, key: parseKeySpec(result.key), grid: { k: [p.k], sigma: [p.sigma], temperature: [p.temperature] }, memory: 'on' })
  const classifier = await loadClassifier(bundle, { kernel: 'simd' })
  const times = { off: [] as number[], on: [] as number[] }
  for (const text of texts) {
    for (const mode of ['off', 'on'] as const) {
      const t0 = performance.now()
      await classifier.classify([text], { params: { k: mode === 'off' ? 0 : p.k } })
      times[mode].push(performance.now() - t0)
    }
  }
  const modelBytes = statSync(join(bundle, 'onnx', 'model.onnx')).size
  const parameters = (JSON.parse(readFileSync(join(model, 'training.json'), 'utf8')) as { parameters: number }).parameters
  const valOn = result.memory === 'on'
  points.push({ size, parameters, memory: 'off', accuracy: base.accuracy, low: base.accuracy_low, high: base.accuracy_high, bytes: modelBytes, msPerText: median(times.off), valOn })
  points.push({ size, parameters, memory: 'on', accuracy: memoryRow.accuracy, low: memoryRow.accuracy_low, high: memoryRow.accuracy_high, bytes: modelBytes + memoryRow.memory_bytes, msPerText: median(times.on), valOn })
  await writeFile(cached, JSON.stringify(points.slice(-2), null, 2) + '\n')
  console.log(`${size}: base ${base.accuracy.toFixed(4)} [${base.accuracy_low.toFixed(4)}, ${base.accuracy_high.toFixed(4)}], +memory ${memoryRow.accuracy.toFixed(4)} (val says ${result.memory}), ${median(times.off).toFixed(2)} / ${median(times.on).toFixed(2)} ms per text`)
}

function plot(x: (p: Point) => number, xLabel: string): string {
  const W = 420
  const H = 280
  const m = { l: 56, r: 16, t: 16, b: 40 }
  const xs = points.map(x).map(Math.log10)
  const ys = points.flatMap((p) => [p.low, p.high])
  const [x0, x1] = [Math.min(...xs) - 0.1, Math.max(...xs) + 0.1]
  const [y0, y1] = [Math.min(...ys) - 0.005, Math.max(...ys) + 0.005]
  const sx = (v: number) => m.l + ((Math.log10(v) - x0) / (x1 - x0)) * (W - m.l - m.r)
  const sy = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b)
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#ccc"/>`]
  for (const v of [y0, (y0 + y1) / 2, y1]) out.push(`<text x="${m.l - 4}" y="${sy(v) + 4}" font-size="10" text-anchor="end">${v.toFixed(3)}</text>`)
  out.push(`<text x="${(W + m.l) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${xLabel} (log scale)</text>`)
  for (const p of points) {
    const color = p.memory === 'on' ? '#d62728' : '#1f77b4'
    out.push(`<line x1="${sx(x(p))}" x2="${sx(x(p))}" y1="${sy(p.low)}" y2="${sy(p.high)}" stroke="${color}"/><circle cx="${sx(x(p))}" cy="${sy(p.accuracy)}" r="4" fill="${color}"><title>${p.size} ${p.memory === 'on' ? '+ memory' : 'base'}: ${p.accuracy.toFixed(4)}</title></circle><text x="${sx(x(p)) + 6}" y="${sy(p.accuracy) - 6}" font-size="10">${p.size}${p.memory === 'on' ? '+m' : ''}</text>`)
  }
  out.push('</svg>')
  return out.join('')
}

const dir = join('out', 'frontier')
await mkdir(dir, { recursive: true })
await writeFile(join(dir, `${dataset}.json`), JSON.stringify({ dataset, points }, null, 2) + '\n')
await writeFile(
  join(dir, `${dataset}.html`),
  `<!doctype html><meta charset="utf-8"><title>ResMem frontier: ${dataset}</title><h1>${dataset}: test accuracy (95% bootstrap) against cost; blue base, red base + memory</h1>${plot((p) => p.msPerText, 'ms per text (Node library)')}${plot((p) => p.bytes, 'bytes (model + memory)')}\n`,
)
console.log('| base | parameters | memory | test accuracy (95%) | ms per text | bytes |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const p of points) console.log(`| ${p.size} | ${p.parameters.toLocaleString('en')} | ${p.memory}${p.memory === 'on' ? (p.valOn ? ' (val: on)' : ' (val: off)') : ''} | ${p.accuracy.toFixed(4)} (${p.low.toFixed(4)}-${p.high.toFixed(4)}) | ${p.msPerText.toFixed(2)} | ${p.bytes.toLocaleString('en')} |`)
console.log(`wrote ${join(dir, `${dataset}.json`)} and ${join(dir, `${dataset}.html`)}`)
