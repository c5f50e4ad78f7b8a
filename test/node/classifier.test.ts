import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadClassifier } from '../../src/node/index.ts'
import type { ResMemClassifier } from '../../src/classifier.ts'
import { readLabelledJsonl } from '../../scripts/data/index.ts'

// artifacts/spam is built by `npm test`'s pretest step (build-defaults --if-missing).
const BUNDLE = 'artifacts/spam'

describe('Node library on the default spam build', () => {
  let simd: ResMemClassifier
  let reference: ResMemClassifier
  let texts: string[]
  let labels: string[]

  beforeAll(async () => {
    simd = await loadClassifier(BUNDLE, { kernel: 'simd' })
    reference = await loadClassifier(BUNDLE, { kernel: 'reference' })
    const test = (await readLabelledJsonl('data/spam/test.jsonl')).slice(0, 200)
    texts = test.map((e) => e.text)
    labels = test.map((e) => e.label)
  })

  it('classifies with the result shape of the HTTP API', async () => {
    // The tuned k, asked for explicitly: the shipped memory may be off (served k = 0), its neighbours still answer when asked.
    const k = simd.bundle.manifest.tuning.best.k
    const [r] = await simd.classify(['Congratulations! You have WON a FREE prize. Click here to claim your cash now!!!'], { explain: true, params: { k } })
    expect(['ham', 'spam']).toContain(r.label)
    expect(r.scores.map((s) => s.label).sort()).toEqual(['ham', 'spam'])
    expect(r.scores[0].score).toBeGreaterThanOrEqual(r.scores[1].score)
    expect(r.scores[0].score + r.scores[1].score).toBeCloseTo(1, 5)
    expect(r.label).toBe(r.scores[0].label)
    expect(r.base.scores).toHaveLength(2)
    expect(r.neighbors).toHaveLength(k)
    const weights = r.neighbors!.reduce((s, n) => s + n.weight, 0)
    expect(weights).toBeCloseTo(1, 5)
    for (const n of r.neighbors!) {
      expect(n.similarity).toBeGreaterThan(-1.01)
      expect(n.similarity).toBeLessThan(1.01)
    }
  })

  it('is accurate on held-out mail, and the SIMD kernel gives exactly the reference answers', async () => {
    const a = await simd.classify(texts, { explain: true })
    const b = await reference.classify(texts, { explain: true })
    expect(a).toEqual(b)
    const correct = a.filter((r, i) => r.label === labels[i]).length
    expect(correct / texts.length).toBeGreaterThan(0.9)
  })

  it('k = 0 is the base model alone', async () => {
    const r = await simd.classify(texts.slice(0, 50), { params: { k: 0 } })
    for (const x of r) {
      expect(x.label).toBe(x.base.label)
      expect(x.score).toBeCloseTo(x.base.score, 6)
    }
  })

  it('a caller cannot change T: the residuals were stored at the build\'s T', async () => {
    const asBuilt = await simd.classify(texts.slice(0, 20))
    // An untyped caller (JSON from elsewhere) passing a temperature gets the build's answers.
    const tried = await simd.classify(texts.slice(0, 20), { params: { temperature: 8 } } as unknown as Parameters<ResMemClassifier['classify']>[1])
    expect(tried).toEqual(asBuilt)
  })

  it('scores are calibrated on val: a short greeting is not scored 1 - 1e-13', async () => {
    const m = simd.bundle.manifest
    expect(m.calibration).toBeDefined()
    const [hi] = await simd.classify(['hi'])
    expect(hi.score).toBeLessThan(0.9999)
    expect(hi.base.score).toBeLessThan(0.9999)
    // Calibration never changes the label.
    const raw = await simd.classify(texts.slice(0, 50), { explain: true })
    for (const r of raw) expect(r.label).toBe(r.scores[0].label)
  })

  it('reports truncation of long texts', async () => {
    const [long, short] = await simd.classify(['word '.repeat(5000), 'hello'])
    expect(long.truncated).toBe(true)
    expect(short.truncated).toBe(false)
  })

  describe('loading from a Hugging Face style hub', () => {
    let server: Server
    let host: string
    const requested: string[] = []
    beforeAll(async () => {
      // A local stand-in for the hub: GET /{owner}/{name}/resolve/{revision}/{path}
      server = createServer(async (req, res) => {
        requested.push(req.url ?? '')
        const m = /^\/acme\/spam-resmem\/resolve\/main\/(.+)$/.exec(req.url ?? '')
        if (!m) return void res.writeHead(404).end()
        try {
          res.writeHead(200).end(await readFile(join(BUNDLE, m[1])))
        } catch {
          res.writeHead(404).end()
        }
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    it('gives the same answers as the local folder', async () => {
      const hub = await loadClassifier('hf:acme/spam-resmem', { hub: { host } })
      expect(await hub.classify(texts.slice(0, 20))).toEqual(await simd.classify(texts.slice(0, 20)))
      expect(requested).toContain('/acme/spam-resmem/resolve/main/memory.bin')
    })

    it('a missing repository is a clear error', async () => {
      await expect(loadClassifier('hf:acme/nothing-here', { hub: { host } })).rejects.toThrow(/manifest\.json: not found at http:\/\/127\.0\.0\.1/)
    })
  })
})
