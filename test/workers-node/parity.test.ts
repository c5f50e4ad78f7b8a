// The worker (onnxruntime-web in workerd, bundle from Workers Static Assets) and the Node library
// (onnxruntime-node, bundle from the folder) must agree: same labels, scores within 1e-4; novelty within 0.02, and
// unfamiliar and set the same except where the two runtimes' numbers straddle the boundary.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ResMemClassifier } from '../../src/classifier.ts'
import { loadClassifier } from '../../src/node/index.ts'
import type { Classification } from '../../src/types.ts'
import { startWorker, type StartedWorker } from './worker.ts'
import { trustDisagreements } from '../helpers/trust.ts'

const MODEL = process.env.MODEL || 'spam'
const BUNDLE = join(process.env.RESMEM_ARTIFACTS || 'artifacts', MODEL)
const TEST_SPLIT = join('data', MODEL, 'test.jsonl')
const COUNT = 300
const BATCH = 32
const TOLERANCE = 1e-4

// `npm test` builds the bundle and prepares the split first (pretest); without them this test cannot run.
if (!existsSync(join(BUNDLE, 'manifest.json')) || !existsSync(TEST_SPLIT)) {
  throw new Error(`parity: needs ${BUNDLE} and ${TEST_SPLIT}: run \`npx tsx scripts/resmem.ts build-defaults --only ${MODEL}\``)
}

describe(`worker and Node library agree on ${COUNT} texts of ${TEST_SPLIT}`, () => {
  let worker: StartedWorker
  let url: URL
  let node: ResMemClassifier
  const texts = readFileSync(TEST_SPLIT, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .slice(0, COUNT)
    .map((line) => (JSON.parse(line) as { text: string }).text)

  beforeAll(async () => {
    ;[{ worker, url }, node] = await Promise.all([startWorker({ MODEL }), loadClassifier(BUNDLE)])
  })

  afterAll(async () => {
    await worker?.dispose()
  })

  it('same labels, scores within 1e-4; novelty, unfamiliar and set by the same rule', async () => {
    const started = performance.now()
    const fromWorker: Classification[] = []
    for (let i = 0; i < texts.length; i += BATCH) {
      const res = await fetch(new URL('/v1/classify', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts: texts.slice(i, i + BATCH) }),
      })
      expect(res.status).toBe(200)
      fromWorker.push(...((await res.json()) as { results: Classification[] }).results)
    }
    const workerMs = performance.now() - started
    const fromNode = await node.classify(texts)
    expect(fromWorker).toHaveLength(texts.length)

    let maxDiff = 0
    let sameTrust = 0
    const mismatches: string[] = []
    for (const [i, w] of fromWorker.entries()) {
      const n = fromNode[i]
      if (w.label !== n.label || w.base.label !== n.base.label || w.truncated !== n.truncated) mismatches.push(`#${i}: worker ${w.label}/${w.base.label}, node ${n.label}/${n.base.label}`)
      // novelty, unfamiliar and set: the same rule in both runtimes (src/resmem/novelty.ts, conformal.ts).
      for (const d of trustDisagreements(w, n, node.bundle.manifest)) mismatches.push(`#${i}: ${d}`)
      if (w.unfamiliar === n.unfamiliar && JSON.stringify(w.set) === JSON.stringify(n.set)) sameTrust++
      for (const [mine, theirs] of [
        [w.scores, n.scores],
        [w.base.scores, n.base.scores],
      ]) {
        for (const s of theirs) maxDiff = Math.max(maxDiff, Math.abs(mine.find((x) => x.label === s.label)!.score - s.score))
      }
    }
    console.log(`parity ${MODEL}: ${texts.length} texts, ${mismatches.length} label mismatches, max |score diff| ${maxDiff.toExponential(2)}; worker ${Math.round(workerMs)} ms over HTTP (${Math.ceil(texts.length / BATCH)} requests)`)
    console.log(`parity ${MODEL}: unfamiliar and set identical for ${sameTrust} of ${texts.length} texts; ${mismatches.join('; ')}`)
    expect(mismatches).toEqual([])
    expect(maxDiff).toBeLessThanOrEqual(TOLERANCE)
  })
})
