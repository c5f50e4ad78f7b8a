/**
 * Why learned rows of a new label take old texts, and what a stricter rule would give (a diagnostic, not served).
 * `npx tsx scripts/experiments/new-label-gate.ts DIR` (not run by the tests) on the held-out base that
 * `npm run bench -- --only new-label --out DIR` trained: at n = 20, the served rule of src/resmem/locality.ts
 * (the nearest learned row within the radius and among the searched k answers alone, p = base(x) + onehot(y) -
 * base(row)) simulated on float32 keys, against the same rule with a learned row counting only when it is nearer than every built row
 * (1-NN gate), and with the radius halved.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { embedSplit } from '../build/embed.ts'
import { readLabelledJsonl } from '../data/index.ts'
import { servedModel } from '../eval/build-model.ts'
import { holdOut, teachSet, DEFAULT_HOLD_OUT } from '../bench/new-label/hold-out.ts'
import { curveRow } from '../bench/new-label/rows.ts'
import { loadNodeBundle } from '../../src/node/index.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { argmax, softmax } from '../../src/resmem/combine.ts'
import { l2Normalize } from '../../src/resmem/vector.ts'

const dir = process.argv[2] ?? 'out/bench'
const bundle = join(dir, 'work-new-label', 'base', 'bundle')
const manifest = parseManifest(await readFile(join(bundle, 'manifest.json')))
const labels = (JSON.parse(await readFile('data/langid/info.json', 'utf8')) as { labels: string[] }).labels
const held = [...DEFAULT_HOLD_OUT]
const split = async (name: string) => holdOut(await readLabelledJsonl(`data/langid/${name}.jsonl`), held, labels)
const [train, test] = [await split('train'), await split('test')]
const served = [...manifest.labels, ...held]
const prepared = await servedModel(bundle, bundle, await loadNodeBundle(bundle))
const embed = (name: string, ex: { text: string; label: string }[]) => embedSplit(name, ex, Uint32Array.from(ex, (e) => served.indexOf(e.label)), prepared.tokenizer, prepared.runner)
const taught = teachSet(train.held, held, 20)
const testAll = [...test.kept, ...test.held]
const [built, learned, tests] = [await embed('built', train.kept), await embed('taught', taught), await embed('test', testAll)]
const T = manifest.resmem.temperature
const radius = manifest.locality!.radius
const C = manifest.labels.length
const keyOf = (s: typeof built, i: number) => l2Normalize(Float32Array.from(s.embeddings.subarray(i * s.dim, (i + 1) * s.dim)))
const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, j) => sum + x * b[j], 0)
const builtKeys = Array.from({ length: built.rows }, (_, i) => keyOf(built, i))
const learnedKeys = Array.from({ length: learned.rows }, (_, i) => keyOf(learned, i))
const baseP = (s: typeof built, i: number) => softmax(s.logits.subarray(i * C, (i + 1) * C), T)

// The worker searches this many rows once learned rows exist (src/classifier.ts learnedK); a learned row counts only among them.
const searchK = Math.max(1, manifest.resmem.k, manifest.tuning.best.k)

function answer(i: number, rule: { radius: number; gate: boolean }): string {
  const q = keyOf(tests, i)
  const p = new Float32Array(served.length)
  p.set(baseP(tests, i))
  let best = -1, bestSim = -Infinity
  learnedKeys.forEach((k, j) => {
    const sim = dot(q, k)
    if (1 - sim <= rule.radius && sim > bestSim) [best, bestSim] = [j, sim]
  })
  const builtSims = builtKeys.map((k) => dot(q, k)).sort((a, b) => b - a)
  // Among the searchK nearest of all rows: fewer than searchK built rows are nearer than it.
  if (best >= 0 && builtSims[searchK - 1] > bestSim) best = -1
  if (best >= 0 && rule.gate && builtSims[0] > bestSim) best = -1
  if (best >= 0) {
    const r = baseP(learned, best)
    for (let c = 0; c < C; c++) p[c] -= r[c]
    p[learned.labels[best]] += 1
  }
  return served[argmax(p)]
}

const truth = testAll.map((e) => e.label)
const before = curveRow('resmem', 0, 0, { predicted: testAll.map((_, i) => served[argmax(baseP(tests, i))]), truth }, held, NaN).old_accuracy
for (const [name, rule] of [['served rule', { radius, gate: false }], ['1-NN gate', { radius, gate: true }], ['radius / 2', { radius: radius / 2, gate: false }]] as const) {
  const r = curveRow('resmem', 20, taught.length, { predicted: testAll.map((_, i) => answer(i, rule)), truth }, held, before)
  console.log(`${name}: new recall ${(100 * r.new_recall).toFixed(1)}%, precision ${r.new_precision === null ? '-' : (100 * r.new_precision).toFixed(1) + '%'}, old accuracy ${(100 * r.old_accuracy).toFixed(2)}% (before ${(100 * before).toFixed(2)}%)`)
}
