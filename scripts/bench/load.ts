/**
 * Throughput at a fixed concurrency with autocannon: `connections` keep-alive connections, each sending the
 * next text as soon as its previous answer arrived, for `durationS` seconds (autocannon stops by itself).
 */
import autocannon from 'autocannon'

export interface LoadResult {
  target: string
  connections: number
  durationS: number
  requests: number
  requestsPerS: number
  /** Milliseconds, from autocannon's histogram (1 ms resolution). */
  p50: number
  p99: number
  /** Connection errors and timeouts, and answers other than 2xx: all must be 0. */
  errors: number
  timeouts: number
  non2xx: number
}

export async function loadTest(target: string, base: URL, path: string, texts: readonly string[], connections: number, durationS: number): Promise<LoadResult> {
  const result = await autocannon({
    url: new URL(path, base).href,
    connections,
    duration: durationS,
    timeout: 30,
    // Each connection walks the texts in order, looping; different texts per request, as in production.
    requests: texts.map((text) => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) })),
  })
  const ok = result['2xx']
  return {
    target,
    connections,
    durationS: result.duration,
    requests: ok + result.non2xx,
    requestsPerS: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  }
}
