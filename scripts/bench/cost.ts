/**
 * Cost per million classifications, from the CPU the bench measured per text (cpu.ts) and Cloudflare's published
 * prices, read 2026-12-06 (/work/shared/notes/platform-facts.md, "Registry drift, limits and clients"):
 *   Workers Paid (developers.cloudflare.com/workers/platform/pricing/): $0.30 per million requests + $0.02 per
 *     million CPU ms;
 *   Workers AI (developers.cloudflare.com/workers-ai/platform/pricing/): @cf/huggingface/distilbert-sst-2-int8
 *     $0.026 per million input tokens, @cf/baai/bge-small-en-v1.5 $0.020 per million input tokens;
 *   Vectorize (developers.cloudflare.com/vectorize/platform/pricing/): $0.01 per million queried dimensions,
 *     queried dimensions = (stored vectors + queries) x dimensions.
 * Marginal prices: no monthly allowance or subscription, no stored-dimension charge, and the same token count
 * for every tokenizer (ours). A Workers AI or Vectorize call made from a Worker also pays that Worker's request.
 */
import type { CpuRow } from './cpu.ts'

export const PRICES = {
  read: '2026-12-06',
  workerPerMillionRequests: 0.3,
  workerPerMillionCpuMs: 0.02,
  distilbertPerMillionTokens: 0.026,
  bgeSmallPerMillionTokens: 0.02,
  vectorizePerMillionQueriedDims: 0.01,
  /** bge-small-en-v1.5's embedding width. */
  bgeSmallDims: 384,
} as const

export interface CostRow {
  /** The cpu.ts text it is priced at: 16, 64 or 256 tokens. */
  text: CpuRow['text']
  tokens: number
  /** USD per million classifications. */
  resmem: { model: string; cpuMs: number; usd: number }[]
  workersAiDistilbert: number
  /** bge-small embeddings + one Vectorize query over `storedVectors` vectors (a k-NN over the same memory). */
  bgeSmallVectorize: number
}

export interface CostTable {
  prices: typeof PRICES
  storedVectors: number
  rows: CostRow[]
  arithmetic: string[]
}

const perMillion = {
  worker: (cpuMs: number) => PRICES.workerPerMillionRequests + PRICES.workerPerMillionCpuMs * cpuMs,
  distilbert: (tokens: number) => PRICES.distilbertPerMillionTokens * tokens,
  bgeVectorize: (tokens: number, stored: number) => PRICES.bgeSmallPerMillionTokens * tokens + PRICES.vectorizePerMillionQueriedDims * PRICES.bgeSmallDims * (1 + stored / 1e6),
}

/** Prices the cpu rows of texts under 1 MB (each model's CPU p50) next to Workers AI and Vectorize. */
export function costTable(rows: readonly CpuRow[], storedVectors: number): CostTable {
  const texts = ['16', '64', '256'] as const
  const out: CostRow[] = []
  for (const text of texts) {
    const ours = rows.filter((r) => r.text === text && r.model !== 'fp32')
    if (!ours.length) continue
    const tokens = Math.max(...ours.map((r) => r.tokens))
    out.push({
      text,
      tokens,
      resmem: ours.map((r) => ({ model: r.model, cpuMs: r.cpu_ms_p50, usd: perMillion.worker(r.cpu_ms_p50) })),
      workersAiDistilbert: perMillion.distilbert(tokens),
      bgeSmallVectorize: perMillion.bgeVectorize(tokens, storedVectors),
    })
  }
  const p = PRICES
  return {
    prices: PRICES,
    storedVectors,
    rows: out,
    arithmetic: [
      `ResMem on Workers Paid: $${p.workerPerMillionRequests} + $${p.workerPerMillionCpuMs} x CPU ms per text (per million classifications)`,
      `Workers AI distilbert-sst-2-int8: $${p.distilbertPerMillionTokens} x tokens per text`,
      `bge-small-en-v1.5 + Vectorize: $${p.bgeSmallPerMillionTokens} x tokens + $${p.vectorizePerMillionQueriedDims} x ${p.bgeSmallDims} dims x (1 + ${storedVectors} stored / 1e6 queries)`,
      `Prices read ${p.read}; marginal (no allowance, no subscription, no stored-dimension charge); a Workers AI or Vectorize call from a Worker adds that Worker's $${p.workerPerMillionRequests} per million requests and its CPU.`,
    ],
  }
}

export function formatCost(c: CostTable): string[] {
  const usd = (x: number) => `$${x.toFixed(2)}`
  const models = [...new Set(c.rows.flatMap((r) => r.resmem.map((m) => m.model)))]
  const out = [`Cost per million classifications (USD, prices read ${c.prices.read}):`, `   text tokens  ${models.map((m) => `ResMem ${m} (CPU ms)`.padStart(24)).join('  ')}  Workers AI distilbert  bge-small + Vectorize`]
  for (const r of c.rows) {
    const cells = models.map((m) => {
      const x = r.resmem.find((y) => y.model === m)
      return (x ? `${usd(x.usd)} (${x.cpuMs.toFixed(2)})` : '-').padStart(24)
    })
    out.push(`   ${String(r.tokens).padStart(11)}  ${cells.join('  ')}  ${usd(r.workersAiDistilbert).padStart(21)}  ${usd(r.bgeSmallVectorize).padStart(20)}`)
  }
  for (const a of c.arithmetic) out.push(`   ${a}`)
  return out
}
