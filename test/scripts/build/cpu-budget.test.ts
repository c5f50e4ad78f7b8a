// `resmem build --cpu-budget-ms`: candidates measured on the worker's code path with the real spam bundle (int8
// model, SIMD kernel), the most accurate within budget served, everything recorded in manifest.json.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadBundle } from '../../../src/bundle/load.ts'
import { dirSource } from '../../../src/node/source.ts'
import { parseManifest, type ServingCandidate } from '../../../src/memory/manifest.ts'
import { atMaxLength, chooseCpuBudget, fitCpuBudget, FREE_PLAN_CPU_MS, HEADROOM, parseCpuBudget, pickCandidate, servedAccuracy, workerPathClassifier } from '../../../scripts/build/cpu-budget.ts'

const val = readFileSync('data/spam/val.jsonl', 'utf8').trim().split('\n').slice(0, 48).map((l) => JSON.parse(l) as { text: string; label: string })

describe('pickCandidate', () => {
  const candidate = fc.record({ precision: fc.constantFrom('fp32' as const, 'int8' as const), maxLength: fc.integer({ min: 2, max: 512 }), tokens: fc.nat(512), cpuMsP50: fc.float({ min: 0, max: 40, noNaN: true }), cpuMsP90: fc.float({ min: 0, max: 40, noNaN: true }), cpuMsP99: fc.constant(0), valAccuracy: fc.float({ min: 0, max: 1, noNaN: true }) })
  it('serves the most accurate candidate whose p50 is within 0.8 of the budget (the cheaper on a tie), else the cheapest, not met', () => {
    fc.assert(
      fc.property(fc.array(candidate, { minLength: 1, maxLength: 10 }), fc.float({ min: Math.fround(0.1), max: 40, noNaN: true }), (cs: ServingCandidate[], budget) => {
        const { chosen, met } = pickCandidate(cs, budget)
        const within = cs.filter((c) => c.cpuMsP50 <= HEADROOM * budget)
        expect(met).toBe(within.length > 0)
        if (met) {
          expect(chosen.cpuMsP50).toBeLessThanOrEqual(HEADROOM * budget)
          for (const c of within) {
            expect(chosen.valAccuracy).toBeGreaterThanOrEqual(c.valAccuracy)
            if (c.valAccuracy === chosen.valAccuracy) expect(chosen.cpuMsP50).toBeLessThanOrEqual(c.cpuMsP50)
          }
        } else for (const c of cs) expect(chosen.cpuMsP50).toBeLessThanOrEqual(c.cpuMsP50)
      }),
      { seed: 20261206 },
    )
    // The headroom: 8.5 ms fits no 10 ms budget, 8 ms does.
    const c = (cpuMsP50: number, valAccuracy: number): ServingCandidate => ({ precision: 'int8', maxLength: 64, tokens: 64, cpuMsP50, cpuMsP90: cpuMsP50, cpuMsP99: cpuMsP50, valAccuracy })
    expect(pickCandidate([c(8.5, 0.99), c(8, 0.9)], 10).chosen.cpuMsP50).toBe(8)
  })

  it('reads --cpu-budget-ms: ms, free (the default) or off, nothing else', () => {
    expect(parseCpuBudget('free')).toBe(FREE_PLAN_CPU_MS)
    expect(parseCpuBudget('7.5')).toBe(7.5)
    expect(parseCpuBudget(), 'the default: the Free plan').toBe(FREE_PLAN_CPU_MS)
    expect(parseCpuBudget('off')).toBeUndefined()
    for (const bad of ['0', '-3', 'abc', '', 'Infinity']) expect(() => parseCpuBudget(bad)).toThrow(/--cpu-budget-ms/)
  })
})

describe('chooseCpuBudget on the spam bundle', () => {
  it('measures each served max length (CPU falls with it), scores it on val and serves the choice', async () => {
    const bundle = await loadBundle(dirSource('artifacts/spam'))
    const record = await chooseCpuBudget(bundle, { budgetMs: 1e6, val, lengths: [256, 32], calls: 5 })
    expect(record.candidates.map((c) => c.maxLength)).toEqual([256, 32])
    const [long, short] = record.candidates
    expect(long.tokens).toBe(256) // the longest val text reaches the cap
    expect(short.cpuMsP50).toBeLessThan(long.cpuMsP50)
    expect(long.cpuMsP90).toBeGreaterThanOrEqual(long.cpuMsP50)
    expect(record.k).toBe(bundle.manifest.tuning.best.k)
    // An unlimited budget serves the most accurate; a budget under every cost serves the cheapest, not met.
    expect(record.chosen.maxLength).toBe(long.valAccuracy >= short.valAccuracy ? (long.valAccuracy === short.valAccuracy ? 32 : 256) : 32)
    expect(pickCandidate(record.candidates, 1e-3)).toMatchObject({ chosen: { maxLength: 32 }, met: false })
    // The served classifier really cuts at the chosen length.
    const at32 = await workerPathClassifier(atMaxLength(bundle, 32))
    expect(at32.tokenizer.maxLength).toBe(32)
    // Answers reused from the 256-token candidate (texts of at most 32 tokens) give the accuracy of running them all.
    expect(short.valAccuracy).toBe(await servedAccuracy(at32, val))
  }, 120_000)

  it("the build's hook writes a manifest that parses, with model.maxLength the choice", async () => {
    const dir = 'artifacts/spam'
    const manifest = parseManifest(readFileSync(`${dir}/manifest.json`))
    const files = Object.fromEntries(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'memory.bin', manifest.model.file].map((f) => [f, new Uint8Array(readFileSync(`${dir}/${f}`))]))
    const served = await fitCpuBudget(files, manifest, 0.001, val.slice(0, 8))
    expect(served.cpuBudget).toMatchObject({ budgetMs: 0.001, met: false, split: 'val', examples: 8 })
    expect(served.cpuBudget!.candidates.length).toBe(8)
    expect(served.model.maxLength).toBe(served.cpuBudget!.chosen.maxLength)
    expect(parseManifest(JSON.parse(JSON.stringify(served)))).toEqual(served)
  }, 180_000)
})
