/**
 * One named stage of a long test, with a deadline shorter than the test's own: a stage that hangs fails with its
 * name, how long it ran and what `detail` says then (a page's console, the requests so far), instead of the test
 * runner's bare "Test timed out". A stage that fails says which stage it was.
 */
export async function withDeadline<T>(what: string, limitMs: number, work: Promise<T>, detail: () => string = () => ''): Promise<T> {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1)
  const more = () => {
    const d = detail()
    return d ? `\n${d}` : ''
  }
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled at "${what}": no answer after ${seconds()} s (limit ${limitMs / 1000} s)${more()}`)), limitMs)
  })
  try {
    return await Promise.race([work, deadline])
  } catch (err) {
    if ((err as Error).message?.startsWith('stalled at "')) throw err
    throw new Error(`"${what}" failed after ${seconds()} s: ${(err as Error).message}${more()}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}
