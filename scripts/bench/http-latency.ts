/**
 * Sequential request latency over loopback: every text is sent once per variant (e.g. `?k=0` and the
 * default k), variants taking turns in a rotating order, so slow moments of a noisy machine hit all alike.
 * The clock covers the whole exchange: request, classification, response body read.
 */
import { median, summarize, rotation, type LatencyStats } from './stats.ts'

export interface Variant {
  name: string
  /** Path with query, e.g. `/v1/classify?k=0`. */
  path: string
}

export interface LatencyResult {
  texts: number
  rounds: number
  variants: Record<string, LatencyStats>
  /** Per text, each variant against the first one (same text, same round): median ratio and added ms. */
  paired: Record<string, { medianRatio: number; medianAddedMs: number }>
  /** Requests that failed or answered other than 200 (they are not timed). */
  errors: number
  firstError?: string
}

export interface LatencyOptions {
  /** Requests per variant sent before timing (lazy model load, JIT). */
  warmup?: number
  /** Passes over the texts. */
  rounds?: number
  onRequest?: () => void
  /** Extra request headers (authorization, for a worker with API_TOKEN set). */
  headers?: Record<string, string>
}

export async function postJson(url: URL, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, text: await res.text() }
}

export async function interleavedLatency(base: URL, texts: readonly string[], variants: readonly Variant[], options: LatencyOptions = {}): Promise<LatencyResult> {
  const rounds = options.rounds ?? 1
  let errors = 0
  let firstError: string | undefined
  const send = async (v: Variant, text: string): Promise<number | undefined> => {
    const t0 = performance.now()
    try {
      const res = await postJson(new URL(v.path, base), { text }, options.headers)
      const ms = performance.now() - t0
      if (res.status === 200) return ms
      firstError ??= `${v.name}: HTTP ${res.status} ${res.text.slice(0, 200)}`
    } catch (err) {
      firstError ??= `${v.name}: ${(err as Error).message}`
    }
    errors++
    return undefined
  }
  for (let i = 0; i < (options.warmup ?? 5); i++) for (const v of variants) await send(v, texts[i % texts.length])
  errors = 0
  // samples[j][i]: variant j on the i-th (round, text); undefined where the request failed.
  const samples = variants.map(() => [] as (number | undefined)[])
  let turn = 0
  for (let r = 0; r < rounds; r++) {
    for (const text of texts) {
      const i = turn++
      for (const j of rotation(i, variants.length)) {
        samples[j][i] = await send(variants[j], text)
        options.onRequest?.()
      }
    }
  }
  const ok = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined)
  const paired = (j: number) => {
    const ratios: number[] = []
    const added: number[] = []
    samples[0].forEach((b, i) => {
      const x = samples[j][i]
      if (b === undefined || x === undefined) return
      ratios.push(x / b)
      added.push(x - b)
    })
    return { medianRatio: median(ratios), medianAddedMs: median(added) }
  }
  return {
    texts: texts.length,
    rounds,
    variants: Object.fromEntries(variants.map((v, j) => [v.name, summarize(ok(samples[j]))])),
    paired: Object.fromEntries(variants.slice(1).map((v, j) => [v.name, paired(j + 1)])),
    errors,
    ...(firstError ? { firstError } : {}),
  }
}

