/** Work that may outlive the request (ctx.waitUntil where the runtime gives one). */
export type Background = (work: Promise<unknown>) => void

/** `ctx.waitUntil` of the request where the runtime gives one (an in-process `app.request` has none). */
export function background(c: { executionCtx: { waitUntil(p: Promise<unknown>): void } }): Background {
  try {
    const ctx = c.executionCtx
    return (work) => ctx.waitUntil(work)
  } catch {
    return (work) => void work.catch(() => undefined)
  }
}
