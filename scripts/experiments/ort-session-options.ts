/**
 * onnxruntime-web session options on the worker's code path (wasm build, 1 thread) for the spam int8 model:
 * CPU per run of a 256-token text for each option set, interleaved (one run of each per round, so load swings
 * hit all alike), and whether the logits and embedding equal the worker's defaults (graphOptimizationLevel
 * 'all') exactly. Run: npx tsx scripts/experiments/ort-session-options.ts [rounds] (not run by the tests)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ortWeb from 'onnxruntime-web/wasm'
import { loadBundle } from '../../src/bundle/load.ts'
import { ModelRunner, type OrtRuntime } from '../../src/model/runner.ts'
import { dirSource } from '../../src/node/source.ts'
import { TextTokenizer } from '../../src/tokenize/index.ts'
import { summarize } from '../bench/stats.ts'
import { loadTexts } from '../bench/texts.ts'

const OPTIONS: Record<string, object> = {
  'worker default (all)': { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
  extended: { executionProviders: ['wasm'], graphOptimizationLevel: 'extended' },
  basic: { executionProviders: ['wasm'], graphOptimizationLevel: 'basic' },
  'all, no mem pattern': { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableMemPattern: false },
  'all, no cpu arena': { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableCpuMemArena: false },
  'all, batch 1 fixed': { executionProviders: ['wasm'], graphOptimizationLevel: 'all', freeDimensionOverrides: { batch_size: 1 } },
}

ortWeb.env.wasm.numThreads = 1
ortWeb.env.wasm.proxy = false
const rounds = Number(process.argv[2] ?? 30)
const bundle = await loadBundle(dirSource('artifacts/spam'))
const tokenizer = new TextTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig, bundle.manifest.model.maxLength)
const text = loadTexts('data/spam/test.jsonl', 200).join(' ')
const batch = tokenizer.encodeBatch([text])
const runners = Object.fromEntries(await Promise.all(Object.entries(OPTIONS).map(async ([name, o]) => [name, await ModelRunner.create(ortWeb as unknown as OrtRuntime, bundle.model, o)] as const)))
// Offline graph optimisation: onnxruntime-node (native) saves the graph after its 'extended' fusions (Attention,
// SkipLayerNormalization, ...: contrib ops the wasm build also runs); the wasm build then loads that graph.
const dir = await mkdtemp(join(tmpdir(), 'ort-offline-'))
try {
  const ortNode = (await import('onnxruntime-node')) as unknown as { InferenceSession: { create(m: Uint8Array, o: object): Promise<unknown> } }
  await ortNode.InferenceSession.create(bundle.model, { graphOptimizationLevel: 'extended', optimizedModelFilePath: join(dir, 'extended.onnx') })
  const offline = new Uint8Array(await readFile(join(dir, 'extended.onnx')))
  console.log(`offline-optimised graph: ${offline.length} bytes (exported ${bundle.model.length})`)
  OPTIONS['offline extended, then all'] = OPTIONS['worker default (all)']
  runners['offline extended, then all'] = await ModelRunner.create(ortWeb as unknown as OrtRuntime, offline, OPTIONS['worker default (all)'])
} catch (err) {
  console.log(`offline-optimised graph: not loadable (${(err as Error).message.slice(0, 200)})`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
const reference = await runners['worker default (all)'].run(batch)
const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(OPTIONS).map((n) => [n, []]))
const same: Record<string, boolean> = {}
for (const [name, r] of Object.entries(runners)) {
  const out = await r.run(batch)
  same[name] = out.logits.every((x, i) => x === reference.logits[i]) && out.embedding.every((x, i) => x === reference.embedding[i])
  for (let i = 0; i < 3; i++) await r.run(batch)
}
const names = Object.keys(OPTIONS)
for (let round = 0; round < rounds; round++) {
  for (let j = 0; j < names.length; j++) {
    const name = names[(round + j) % names.length]
    const c0 = process.cpuUsage()
    await runners[name].run(batch)
    const c = process.cpuUsage(c0)
    cpu[name].push((c.user + c.system) / 1000)
  }
}
const base = summarize(cpu['worker default (all)']).p50
console.log(`spam int8, ${batch.length} tokens, ${rounds} runs each, CPU ms p50 (ratio to the worker default), outputs identical:`)
for (const name of names) {
  const p50 = summarize(cpu[name]).p50
  console.log(`  ${name.padEnd(24)} ${p50.toFixed(2).padStart(7)}  ${(p50 / base).toFixed(3)}  ${same[name]}`)
}
