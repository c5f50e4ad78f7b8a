/**
 * The worker's side of a sharded memory: one remote segment per MemoryShard object (workers/objects/
 * memory-shard.ts), each asked for its top-k in parallel and merged exactly by the classifier's memory.
 */
import type { Manifest } from '../src/memory/manifest.ts'
import { remoteSegment, type Segment } from '../src/memory/segments/index.ts'
import { shardName, shardRange, type MemoryShard, type ShardRange } from './objects/memory-shard.ts'

export interface ShardOptions {
  /** The bundle folder the shards load from the static assets. */
  model: string
  count: number
  timeoutMs: number
}

/**
 * @example
 * const builtSegments = shardSegments(env.MEMORY_SHARD, bundle.manifest, { model: 'spam', count: 4, timeoutMs: 10_000 })
 */
export function shardSegments(namespace: DurableObjectNamespace<MemoryShard>, manifest: Manifest, options: ShardOptions): Segment[] {
  const { count } = options
  const segments: Segment[] = []
  for (let i = 0; i < count; i++) {
    const range: ShardRange = { model: options.model, memory: manifest.memory.sha256, ...shardRange(manifest.memory.rows, i, count) }
    // More shards than rows: the empty ranges hold nothing to ask for.
    if (range.end === range.first) continue
    const id = namespace.idFromName(shardName(range, i, count))
    // A stub per call: a stub is an I/O object of the request that made it, and the model outlives requests.
    segments.push(remoteSegment((query, k) => namespace.get(id).search(range, query, k), { name: `memory shard ${i + 1} of ${count} (rows ${range.first}..${range.end - 1})`, timeoutMs: options.timeoutMs }))
  }
  return segments
}
