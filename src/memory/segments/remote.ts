import type { Hit, Query, Segment } from './types.ts'

/** A remote segment did not answer (failed or too slow): the memory's answer would be incomplete, so there is none. */
export class SegmentUnavailableError extends Error {
  constructor(
    /** Which segment, e.g. "shard 2 of 4 (rows 2000..2999)". */
    readonly segment: string,
    readonly reason: 'failed' | 'timeout',
    message: string,
  ) {
    super(`${segment}: ${message}`)
    this.name = 'SegmentUnavailableError'
  }
}

export interface RemoteSegmentOptions {
  /** Names the segment in errors. */
  name: string
  /** Longest wait for an answer. */
  timeoutMs: number
}

/**
 * Rows of the memory that another process holds (a Durable Object shard) as a segment: its top-k arrives over
 * RPC, in global row order. A failure or a missed deadline rejects with SegmentUnavailableError, never a shorter
 * list: a merge over the segments that did answer would present a partial memory as the whole.
 *
 * @example
 * const shard = remoteSegment((q, k) => stub.search(range, q, k), { name: 'shard 1 of 4', timeoutMs: 5000 })
 */
export function remoteSegment(search: (query: Query, k: number) => Promise<Hit[]>, options: RemoteSegmentOptions): Segment {
  return {
    search(query, k) {
      if (k <= 0) return []
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SegmentUnavailableError(options.name, 'timeout', `no answer within ${options.timeoutMs} ms`)), options.timeoutMs)
      })
      const answer = search(query, k).catch((err: unknown) => {
        throw new SegmentUnavailableError(options.name, 'failed', err instanceof Error ? err.message : String(err))
      })
      return Promise.race([answer, deadline]).finally(() => clearTimeout(timer))
    },
  }
}
