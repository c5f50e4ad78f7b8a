import { describe, expect, it } from 'vitest'
import { loadBundle } from '../../src/bundle/load.ts'
import { MicroBatcher } from '../../src/model/micro-batch.ts'
import { ModelRunner } from '../../src/model/runner.ts'
import { nodeOrt } from '../../src/node/index.ts'
import { dirSource } from '../../src/node/source.ts'
import { TextTokenizer } from '../../src/tokenize/index.ts'

// The shipped spam bundle on onnxruntime-node (one thread, so runs are repeatable bit for bit).
const bundle = await loadBundle(dirSource('artifacts/spam'))
const tokenizer = new TextTokenizer(bundle.tokenizerJson, bundle.tokenizerConfig, bundle.manifest.model.maxLength)
const runner = await ModelRunner.create(nodeOrt, bundle.model, { intraOpNumThreads: 1, interOpNumThreads: 1 })
const batcher = () => new MicroBatcher({ run: (b) => runner.run(b), batchOf: (ids) => tokenizer.batchOf(ids), maxBatch: 4 })

describe('MicroBatcher', () => {
  it('runs same-length texts together, at most maxBatch per run, in arrival order', async () => {
    const b = batcher()
    const ids = [[2, 10, 11, 3], [2, 12, 13, 3], [2, 14, 3], [2, 15, 16, 3], [2, 17, 18, 3], [2, 19, 20, 3]]
    const outs = await Promise.all(ids.map((x) => b.embed(x)))
    // Lengths 4,4,3,4,4,4: one run of four 4-token texts, then the 3-token one, then the last 4-token one.
    expect(b.stats).toEqual({ runs: 3, texts: 6 })
    for (const [i, x] of ids.entries()) {
      const alone = await runner.run(tokenizer.batchOf([x]))
      expect(Array.from(outs[i].logits)).toEqual(Array.from(alone.logits))
    }
  })

  it('a failing run rejects its texts only; the batcher keeps serving', async () => {
    const b = batcher()
    // An id past the vocabulary: onnxruntime's Gather refuses it.
    const [bad, good] = await Promise.allSettled([b.embed([2, 1_000_000, 3]), b.embed([2, 10, 11, 12, 3])])
    expect(bad.status).toBe('rejected')
    expect(good.status).toBe('fulfilled')
    await expect(b.embed([2, 1_000_001, 3])).rejects.toThrow()
    expect((await b.embed([2, 10, 3])).logits.length).toBe(2)
  })
})
