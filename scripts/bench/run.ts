/**
 * One `resmem bench` run: the sections in order, each bounded (fixed counts, fixed durations), progress on
 * stderr. A section that fails is recorded with its reason and the others still run.
 *
 *   kernel   k-NN kernel GB/s in Node and in workerd (simd, scalar, TypeScript reference)
 *   latency  the real worker: base model (?k=0) vs full ResMem, with the shipped memory and a synthetic
 *            large one (staged into a bench-only assets folder)
 *   node     in-process Node: our library vs a transformers.js pipeline
 *   load     autocannon at several concurrencies against the worker and node:http servers around both
 *            Node classifiers
 *   scale    memories in parts and in Durable Object shards, against the single scan (scale.ts)
 *   new-label a label the base never saw, taught through the worker's API, against anchors (new-label/)
 */
import { spawn } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { progress } from '../cli/progress.ts'
import { parseManifest, type Manifest } from '../../src/memory/manifest.ts'
import { ROOT } from '../../workers/scripts/build.ts'
import { interleavedLatency } from './http-latency.ts'
import { benchCpu, cpuJson } from './cpu.ts'
import { costTable } from './cost.ts'
import { FREE_PLAN_CPU_MS } from '../build/cpu-budget.ts'
import { readLabelledJsonl } from '../data/index.ts'
import { benchKernelNode } from './kernel.ts'
import { benchKernelWorkerd } from './kernel-workerd.ts'
import { benchLearning } from './learning.ts'
import { benchNewLabel } from './new-label/index.ts'
import { DEFAULT_HOLD_OUT } from './new-label/hold-out.ts'
import { benchPoisoning } from './poisoning.ts'
import { benchMemory } from './memory.ts'
import { loadTest, type LoadResult } from './load.ts'
import { compareNode, NODE_VARIANTS } from './node-compare.ts'
import { startNodeServer, type NodeServer } from './node-servers.ts'
import { evaluateTargets, uncheckedFailures, type BenchResult, type Section, type WorkerLatency } from './result.ts'
import { median, rotation } from './stats.ts'
import { benchScale, scalePlan } from './scale.ts'
import { expectSearch, resmemPath, searchedK } from './searched-k.ts'
import { prepareBenchAssets, type BenchAssets } from './synthetic-bundle.ts'
import { loadTexts } from './texts.ts'
import { startDevWorker, type DevWorker } from './wrangler-dev.ts'

export interface BenchOptions {
  out: string
  quick: boolean
  sections: readonly Section[]
  /** Bundle folder name under artifacts/ (and data/<model>/test.jsonl for the texts). */
  model: string
  artifacts: string
  syntheticRows: number
  /** new-label: the langid labels held out of the base model (default DEFAULT_HOLD_OUT). */
  holdOut?: string[]
}

/** What a default run and a --quick run measure. */
export function plan(quick: boolean) {
  return quick
    ? { kernel: { batches: 3, batchMs: 40 }, latencyTexts: 40, nodeTexts: 30, rounds: 1, loadSeconds: 2, connections: [1, 4, 16], memoryStages: [1000], singleWrites: 10, learningTests: 300 }
    : // Two rounds over the texts: a p99 of ~400 samples, not of the 2 slowest of 200 on a shared machine.
      { kernel: { batches: 7, batchMs: 100 }, latencyTexts: 200, nodeTexts: 200, rounds: 2, loadSeconds: 10, connections: [1, 4, 16], memoryStages: [1000, 10000], singleWrites: 30, learningTests: undefined }
}

const log = (message: string) => process.stderr.write(`bench: ${message}\n`)

async function version(pkg: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'missing'
  }
}

function npmRun(args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', ['run', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`npm run ${args.join(' ')}: exit ${code}`))))
  })
}

async function workerLatency(url: URL, model: string, texts: string[], rounds: number): Promise<WorkerLatency> {
  const health = await fetch(new URL('/healthz', url))
  const info = (await health.json()) as { memoryRows?: number }
  if (!health.ok) throw new Error(`worker ${model}: /healthz ${health.status} ${JSON.stringify(info)}`)
  const manifest = (await (await fetch(new URL('/v1/model', url))).json()) as Pick<Manifest, 'resmem' | 'tuning'>
  const { k, from } = searchedK(manifest)
  await expectSearch(url, texts[0], k, info.memoryRows ?? 0)
  // What loopback HTTP through wrangler's dev proxy costs without any model work: GET /healthz.
  const floor: number[] = []
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now()
    await (await fetch(new URL('/healthz', url))).arrayBuffer()
    floor.push(performance.now() - t0)
  }
  const bar = progress(`latency ${model}`, texts.length * 2 * rounds, 'requests')
  const r = await interleavedLatency(url, texts, [
    { name: 'base', path: '/v1/classify?k=0' },
    { name: 'resmem', path: resmemPath(k) },
  ], { rounds, onRequest: () => bar.increment(1) })
  bar.stop()
  if (r.errors) throw new Error(`worker ${model}: ${r.errors} failed requests, first: ${r.firstError}`)
  const { base, resmem } = r.variants
  const healthzP50 = median(floor)
  const ratio = { p50: resmem.p50 / base.p50, p99: resmem.p99 / base.p99, pairedMedian: r.paired.resmem.medianRatio, netP50: (resmem.p50 - healthzP50) / (base.p50 - healthzP50) }
  return { model, memoryRows: info.memoryRows ?? NaN, k, kFrom: from, healthzP50, ...r, ratio }
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const started = performance.now()
  const p = plan(o.quick)
  const result: BenchResult = {
    format: 'resmem-bench',
    version: 1,
    startedAt: new Date().toISOString(),
    seconds: 0,
    quick: o.quick,
    sections: [...o.sections],
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}`, loadAvgStart: loadavg(), loadAvgEnd: [] },
    versions: Object.fromEntries(
      await Promise.all(['wrangler', 'workerd', 'onnxruntime-node', 'onnxruntime-web', '@huggingface/transformers', 'autocannon'].map(async (pkg) => [pkg, await version(pkg)])),
    ),
    targets: [],
    failures: [],
    notes: [],
  }
  const has = (s: Section) => o.sections.includes(s)
  const attempt = async (section: Section, body: () => Promise<void>) => {
    try {
      await body()
    } catch (err) {
      const message = (err as Error).message
      log(`${section} FAILED: ${message}`)
      result.failures.push({ section, message })
    }
  }
  const bundle = resolve(o.artifacts, o.model)
  const workerSections = has('latency') || has('load')
  // Read first: a missing test split should stop the run before minutes of measuring, not after.
  const texts = workerSections || has('node') ? loadTexts(join(ROOT, 'data', o.model, 'test.jsonl'), Math.max(p.latencyTexts, p.nodeTexts)) : []

  if (has('kernel')) {
    await attempt('kernel', async () => {
      log(`kernel in Node (${p.kernel.batches} batches of ~${p.kernel.batchMs} ms per impl and size)`)
      const nodeRows = await benchKernelNode(p.kernel)
      log('kernel in workerd (starting the bench kernel worker)')
      const workerdRows = await benchKernelWorkerd(p.kernel, (rows) => log(`kernel in workerd: ${rows} rows`))
      result.kernel = { rows: [...nodeRows, ...workerdRows], settings: p.kernel }
      result.notes.push("workerd's performance.now() has 1 ms resolution; kernel batches last ~batchMs, so its GB/s are good to ~1-2%.")
    })
  }

  let assets: BenchAssets | undefined
  if (workerSections) {
    await attempt(has('latency') ? 'latency' : 'load', async () => {
      log('npm run build:worker (k-NN kernel, ORT .wasm the worker imports)')
      await npmRun(['build:worker', '--silent', '--', '--allow-missing', '--model', o.model])
      log(`staging ${o.model} and a synthetic ${o.syntheticRows}-row memory into ${join(o.out, 'work', 'assets')}`)
      assets = await prepareBenchAssets(o.artifacts, o.model, join(o.out, 'work'), o.syntheticRows)
    })
  }

  let worker: DevWorker | undefined
  try {
    if (assets && workerSections) {
      log(`starting the worker (wrangler.toml, MODEL=${o.model}, bench assets)`)
      const started = await startDevWorker({ config: join(ROOT, 'wrangler.toml'), assets: assets.assets, vars: { MODEL: o.model, MICRO_BATCH: 'on' }, skipBuildCommand: true })
      worker = started.worker
      const url = started.url
      if (has('latency')) {
        await attempt('latency', async () => {
          result.latency = [await workerLatency(url, o.model, texts.slice(0, p.latencyTexts), p.rounds)]
        })
      }
      if (has('load')) {
        await attempt('load', async () => {
          // The worker's model is loaded by now (the latency pass or this request).
          await fetch(new URL('/healthz', url))
          log('starting node:http servers around our Node library and the transformers.js pipeline, and a worker with MICRO_BATCH=off')
          const servers: NodeServer[] = await Promise.all([startNodeServer('resmem', bundle), startNodeServer('transformers', bundle)])
          // The same worker with micro-batching off (src/model/micro-batch.ts), for the on/off ratio in one run.
          const unbatched = await startDevWorker({ config: join(ROOT, 'wrangler.toml'), assets: assets!.assets, vars: { MODEL: o.model, MICRO_BATCH: 'off' }, skipBuildCommand: true })
          try {
            await fetch(new URL('/healthz', unbatched.url))
            // ResMem targets search at the served (else tuned) k whatever the memory's on/off decision.
            const { k } = searchedK(parseManifest(await readFile(join(bundle, 'manifest.json'))))
            const targets = [
              { name: 'worker (workerd)', url, path: resmemPath(k) },
              { name: 'worker (workerd, MICRO_BATCH=off)', url: unbatched.url, path: resmemPath(k) },
              { name: 'node:http resmem', url: servers[0].url, path: resmemPath(k) },
              { name: 'node:http transformers.js', url: servers[1].url, path: '/v1/classify' },
            ]
            const bodies = texts.slice(0, p.latencyTexts)
            const rows: LoadResult[] = []
            let turn = 0
            for (const c of p.connections) {
              for (const j of rotation(turn++, targets.length)) {
                log(`load: ${targets[j].name}, ${c} connection(s), ${p.loadSeconds} s`)
                rows.push(await loadTest(targets[j].name, targets[j].url, targets[j].path, bodies, c, p.loadSeconds))
              }
            }
            result.load = rows.sort((a, b) => a.connections - b.connections || targets.findIndex((t) => t.name === a.target) - targets.findIndex((t) => t.name === b.target))
          } finally {
            await Promise.all([...servers.map((s) => s.stop()), unbatched.worker.dispose()])
          }
        })
      }
      await worker.dispose()
      worker = undefined

      if (has('latency')) {
        await attempt('latency', async () => {
          log(`starting the worker with MODEL=${assets!.syntheticModel}`)
          const big = await startDevWorker({ config: join(ROOT, 'wrangler.toml'), assets: assets!.assets, vars: { MODEL: assets!.syntheticModel }, skipBuildCommand: true })
          worker = big.worker
          result.latency = [...(result.latency ?? []), await workerLatency(big.url, assets!.syntheticModel, texts.slice(0, p.latencyTexts), p.rounds)]
          result.notes.push(`${assets!.syntheticModel}: ${o.model}'s model with ${assets!.synthetic.rows} synthetic memory rows (seeded random unit keys, random residuals): timing only, its predictions are meaningless.`)
        })
      }
    }
  } catch (err) {
    result.failures.push({ section: has('latency') ? 'latency' : 'load', message: (err as Error).message })
  } finally {
    await worker?.dispose()
  }

  if (has('node')) {
    await attempt('node', async () => {
      const manifest = parseManifest(await readFile(join(bundle, 'manifest.json')))
      const n = p.nodeTexts
      const { k } = searchedK(manifest)
      result.node = { bundle, k, runs: [] }
      for (const threads of ['1', 'default'] as const) {
        log(`Node in-process: our library vs transformers.js on ${bundle} (k=${k}), onnxruntime-node threads: ${threads}`)
        const bar = progress(`node threads=${threads}`, n * p.rounds * NODE_VARIANTS.length, 'calls')
        result.node.runs.push(await compareNode(bundle, texts.slice(0, n), threads, k, p.rounds, () => bar.increment(1)))
        bar.stop()
      }
    })
  }

  // Live edits and learning at the edge (scripts/bench/memory.ts, learning.ts): their own workers, after the others.
  if (has('memory') || has('learning')) {
    if (!workerSections) await npmRun(['build:worker', '--silent', '--', '--allow-missing', '--model', o.model]).catch(() => undefined)
    if (has('memory')) {
      await attempt('memory', async () => {
        const memoryTexts = loadTexts(join(ROOT, 'data', o.model, 'test.jsonl'), p.latencyTexts)
        result.memory = await benchMemory({ artifacts: o.artifacts, model: o.model, work: join(o.out, 'work-memory'), texts: memoryTexts, rounds: p.rounds, stages: p.memoryStages, singleWrites: p.singleWrites, log })
      })
    }
    if (has('learning')) {
      await attempt('learning', async () => {
        result.learning = await benchLearning({ artifacts: o.artifacts, work: join(o.out, 'work-learning'), testLimit: p.learningTests, skipHalfSplit: o.quick, log })
      })
    }
  }

  if (has('poisoning')) {
    await attempt('poisoning', async () => {
      result.poisoning = await benchPoisoning({ artifacts: o.artifacts, model: 'spam', edits: o.quick ? 20 : 100, log })
    })
  }

  if (has('scale')) {
    await attempt('scale', async () => {
      if (!workerSections && !has('memory') && !has('learning')) await npmRun(['build:worker', '--silent', '--', '--allow-missing', '--model', o.model])
      const scaleTexts = loadTexts(join(ROOT, 'data', o.model, 'test.jsonl'), p.latencyTexts)
      result.scale = await benchScale({ artifacts: o.artifacts, model: o.model, work: join(o.out, 'work-scale'), texts: scaleTexts, memories: scalePlan(o.quick), log })
    })
  }

  if (has('cpu')) {
    await attempt('cpu', async () => {
      const calls = o.quick ? 10 : 40
      log(`cpu: the worker's code path in Node (onnxruntime-web wasm), fp32 and int8, ${calls} calls per text`)
      const bar = progress('cpu', calls * 12, 'calls')
      // The budget build's rows: fitted on val (each candidate's CPU and val accuracy), scored on test.
      const split = (name: string) => readLabelledJsonl(join(ROOT, 'data', o.model, `${name}.jsonl`))
      const budget = { ms: FREE_PLAN_CPU_MS, val: await split('val'), test: await split('test') }
      log(`cpu: a ${budget.ms} ms budget build fitted on ${budget.val.length} val texts, scored on ${budget.test.length} test texts`)
      result.cpu = await benchCpu({ bundle, model: join(ROOT, 'models', o.model), texts: loadTexts(join(ROOT, 'data', o.model, 'test.jsonl'), 200), calls, onCall: () => bar.increment(1), budget })
      bar.stop()
      result.cost = costTable(result.cpu.rows, parseManifest(await readFile(join(bundle, 'manifest.json'))).memory.rows)
      const b = result.cpu.budget
      if (b) result.notes.push(`cpu budget ${b.record.budgetMs} ms: serves ${b.record.chosen.precision} at ${b.record.chosen.maxLength} tokens (${b.record.met ? 'met' : 'NOT met'} on val's longest text); test accuracy ${(100 * b.test.budgeted).toFixed(2)}% budgeted vs ${(100 * b.test.unbudgeted).toFixed(2)}% at ${result.cpu.rows.find((r) => r.model === 'int8' && r.text === '256')?.tokens ?? '?'} tokens (${b.test.examples} texts, the served answer).`)
      await mkdir(o.out, { recursive: true })
      await writeFile(join(o.out, 'cpu.json'), cpuJson(result.cpu))
    })
  }

  if (has('new-label')) {
    await attempt('new-label', async () => {
      if (!workerSections && !has('memory') && !has('learning') && !has('scale')) await npmRun(['build:worker', '--silent', '--', '--allow-missing', '--model', o.model])
      const newLabel = await benchNewLabel({ work: join(o.out, 'work-new-label'), holdOut: o.holdOut ?? [...DEFAULT_HOLD_OUT], retrain: !o.quick, log })
      result.newLabel = newLabel
      await mkdir(o.out, { recursive: true })
      await writeFile(join(o.out, 'new-label.json'), JSON.stringify(newLabel, null, 2) + '\n')
      if (newLabel.resmemError) throw new Error(`resmem rows: ${newLabel.resmemError}`)
    })
  }

  result.targets = evaluateTargets(result)
  result.failures.push(...uncheckedFailures(result))
  result.machine.loadAvgEnd = loadavg()
  result.seconds = (performance.now() - started) / 1000
  return result
}
