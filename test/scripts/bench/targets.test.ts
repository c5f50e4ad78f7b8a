// Bench rows measure what they name: a ResMem row searches the memory (never the served k 0 of a memory turned
// off), identical_topk fails on empty neighbour lists, and a run that checks nothing does not pass.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadClassifier } from '../../../src/node/index.ts'
import { parseManifest } from '../../../src/memory/manifest.ts'
import { readFileSync } from 'node:fs'
import { evaluateTargets, uncheckedFailures, type BenchResult } from '../../../scripts/bench/result.ts'
import type { ScaleRow } from '../../../scripts/bench/scale.ts'
import { sameTopK } from '../../../scripts/bench/scale.ts'
import { expectSearch, resmemPath, searchedK } from '../../../scripts/bench/searched-k.ts'

const spam = parseManifest(readFileSync('artifacts/spam/manifest.json'))

describe('searchedK', () => {
  it('takes the served k, else the tuned k, else a stated one; never 0', () => {
    fc.assert(
      fc.property(fc.nat(256), fc.nat(256), fc.option(fc.integer({ min: -3, max: 300 }), { nil: undefined }), (served, tuned, stated) => {
        const m = { resmem: { ...spam.resmem, k: served }, tuning: { ...spam.tuning, best: { ...spam.tuning.best, k: tuned } } }
        let got: ReturnType<typeof searchedK>
        try {
          got = searchedK(m, stated)
        } catch {
          expect(stated !== undefined ? stated < 1 : served === 0 && tuned === 0).toBe(true)
          return
        }
        expect(got.k).toBeGreaterThanOrEqual(1)
        expect(got).toEqual(stated !== undefined ? { k: stated, from: 'stated' } : served > 0 ? { k: served, from: 'served' } : { k: tuned, from: 'tuned' })
      }),
    )
  })

  it('the shipped spam build serves k 0 (memory off), so its ResMem rows search the tuned k', () => {
    expect(spam.resmem.k).toBe(0)
    expect(searchedK(spam)).toEqual({ k: spam.tuning.best.k, from: 'tuned' })
    expect(resmemPath(8)).toBe('/v1/classify?k=8')
  })
})

describe('sameTopK', () => {
  const hit = fc.record({ source: fc.constant('built' as const), row: fc.nat(1e6), similarity: fc.float({ min: -1, max: 1, noNaN: true }) })
  it('holds for equal non-empty lists, fails for different ones and whenever a side searched nothing', () => {
    fc.assert(
      fc.property(fc.array(hit, { minLength: 1, maxLength: 16 }), fc.array(hit, { maxLength: 16 }), (a, b) => {
        expect(sameTopK({ neighbors: a }, { neighbors: structuredClone(a) })).toBe(true)
        expect(sameTopK({ neighbors: a }, { neighbors: b })).toBe(JSON.stringify(a) === JSON.stringify(b))
        expect(sameTopK({ neighbors: [] }, { neighbors: [] })).toBe(false)
        expect(sameTopK({ neighbors: [] }, { neighbors: a })).toBe(false)
      }),
    )
  })
})

describe('scale targets and runs that check nothing', () => {
  const row = (over: Partial<ScaleRow>): ScaleRow => ({ rows: 100_000, dim: 384, shards: 0, k: 8, base_p50_ms: 20, resmem_p50_ms: 21, ratio_p50: 1.05, isolate_mib: 80, identical_topk: true, parts: 2, memory_mib: 38, differing: 0, ...over })
  const scale = (rows: ScaleRow[]): Pick<BenchResult, 'scale'> => ({ scale: { model: 'spam', texts: 40, rows, notes: [] } })

  it('holds 100k x 384 in one isolate to ratio p50 <= 1.10 and every row to an identical, searched top-k', () => {
    const pass = evaluateTargets(scale([row({}), row({ rows: 1_000_000, dim: 128, shards: 8, ratio_p50: 1.4, isolate_mib: null })]))
    expect(pass.map((t) => t.name)).toEqual([
      'scale 100000 x 384 shards=0 top-k identical to the single scan (texts differing)',
      'scale 100000 x 384 shards=0 resmem/base p50',
      'scale 100000 x 384 shards=0 isolate MiB',
      'scale 1000000 x 128 shards=8 top-k identical to the single scan (texts differing)',
      'scale 1000000 x 128 shards=8 resmem/base p50',
    ])
    expect(pass.every((t) => t.pass)).toBe(true)
    const fail = evaluateTargets(scale([row({ ratio_p50: 1.27 }), row({ shards: 2, identical_topk: false, differing: 0 })]))
    expect(fail.filter((t) => !t.pass).map((t) => t.name)).toEqual(['scale 100000 x 384 shards=0 resmem/base p50', 'scale 100000 x 384 shards=2 top-k identical to the single scan (texts differing)'])
  })

  it('fails a configuration that could not be measured', () => {
    const t = evaluateTargets({ scale: { model: 'spam', texts: 40, rows: [row({ rows: 300_000, dim: 128, shards: 1, isolate_mib: null })], failed: [{ rows: 100_000, dim: 384, shards: 0, message: '503' }], notes: [] } })
    expect(t.filter((x) => !x.pass).map((x) => x.name)).toEqual(['scale 100000 x 384 shards=0 measured (configurations that failed)'])
  })

  it('fails a targeted section that evaluated nothing, and a run of no targets at all', () => {
    expect(uncheckedFailures({ sections: ['scale'], targets: [], failures: [] })).toEqual([{ section: 'scale', message: expect.stringContaining('no target was evaluated') }])
    expect(uncheckedFailures({ sections: ['memory'], targets: [], failures: [] })).toEqual([{ section: 'memory', message: expect.stringContaining('0/0') }])
    // A section that failed already says why; a run with targets passes this check.
    expect(uncheckedFailures({ sections: ['scale'], targets: [], failures: [{ section: 'scale', message: 'boom' }] })).toEqual([])
    const targets = evaluateTargets(scale([row({})]))
    expect(uncheckedFailures({ sections: ['scale'], targets, failures: [] })).toEqual([])
  })
})

describe('expectSearch against the real spam classifier', () => {
  let server: Server
  let url: URL
  beforeAll(async () => {
    const classifier = await loadClassifier('artifacts/spam')
    server = createServer(async (req, res) => {
      const u = new URL(req.url!, 'http://x')
      let body = ''
      for await (const chunk of req) body += chunk
      const k = u.searchParams.get('k')
      const [answer] = await classifier.classify([(JSON.parse(body) as { text: string }).text], { explain: u.searchParams.get('explain') === '1', params: k === null ? undefined : { k: Number(k) } })
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('passes at the tuned k, and refuses k 0, a memory of no rows, or fewer neighbours than asked', async () => {
    const { k } = searchedK(spam)
    await expectSearch(url, 'WINNER!! Claim your free prize now', k, spam.memory.rows)
    await expect(expectSearch(url, 'see you at lunch', 0, spam.memory.rows)).rejects.toThrow(/searched 0 neighbours, want 0/)
    await expect(expectSearch(url, 'see you at lunch', k, 0)).rejects.toThrow(/want 0/)
    // The default path of a memory turned off searches nothing: what the old ResMem rows measured.
    const plain = (await (await fetch(new URL('/v1/classify?explain=1', url), { method: 'POST', body: JSON.stringify({ text: 'see you at lunch' }) })).json()) as { neighbors: unknown[] }
    expect(plain.neighbors).toEqual([])
  })
})
