/**
 * MemoryShard: rows [first, end) of a served memory in a Durable Object of their own, past what one isolate
 * holds (128 MB). The memory is split into MEMORY_SHARDS ranges of rows; the object for a range loads its parts
 * from the static assets once (keys straight into its k-NN kernel's memory, as the worker's own loader does)
 * and answers top-k for a query vector over RPC, rows numbered globally, so the worker merges the shards' lists
 * into the exact global top-k (src/memory/segments: one more segment). No storage: the bundle is the truth.
 */
import { DurableObject } from 'cloudflare:workers'
import { readMemoryRows } from '../../src/bundle/memory-parts.ts'
import type { KnnIndex } from '../../src/knn/index.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { builtSegment, type BuiltSegment, type Hit, type Query } from '../../src/memory/segments/index.ts'
import { bundleSource } from '../bundle-source.ts'
import { settings, type Bindings } from '../env.ts'
import { simdKeyIndex } from '../knn.ts'

/** Which rows of which memory a shard serves; the worker states it with every call. */
export interface ShardRange {
  /** The bundle folder in the static assets. */
  model: string
  /** SHA-256 of the memory (manifest.json memory.sha256): a shard never answers for another build. */
  memory: string
  first: number
  end: number
}

/** The object of shard `index` of `count` over a memory. */
export function shardName(range: ShardRange, index: number, count: number): string {
  return `shard:${range.model}:${range.memory}:${count}:${index}`
}

/** Shard `index` of `count` equal row ranges of a `rows`-row memory (the first ones one row longer). */
export function shardRange(rows: number, index: number, count: number): { first: number; end: number } {
  const base = Math.floor(rows / count)
  const extra = rows % count
  const first = index * base + Math.min(index, extra)
  return { first, end: first + base + (index < extra ? 1 : 0) }
}

const describeRange = (r: ShardRange) => `${r.model} rows [${r.first}, ${r.end}) of memory ${r.memory.slice(0, 12)}…`

export class MemoryShard extends DurableObject<Bindings> {
  private loading: { key: string; segment: Promise<BuiltSegment> } | undefined

  /** The top-k rows of this shard for `query`, best first, with global rows. Loads the rows on the first call. */
  async search(range: ShardRange, query: Query, k: number): Promise<Hit[]> {
    const segment = await this.segment(range)
    return segment.search(query, k)
  }

  private segment(range: ShardRange): Promise<BuiltSegment> {
    const key = JSON.stringify(range)
    if (this.loading?.key !== key) {
      const segment = this.load(range)
      this.loading = { key, segment }
      // A failed load is tried again by the next call, not remembered.
      segment.catch(() => {
        if (this.loading?.segment === segment) this.loading = undefined
      })
    }
    return this.loading.segment
  }

  private async load(range: ShardRange): Promise<BuiltSegment> {
    // The same source as the isolate that asks (BUNDLE_SOURCE): the memory checksum below must agree.
    const source = bundleSource(this.env, settings(this.env).bundleSource, range.model)
    const manifest = parseManifest(await source('manifest.json'))
    if (manifest.memory.sha256 !== range.memory) {
      throw new Error(`${describeRange(range)}: the static assets hold memory ${manifest.memory.sha256.slice(0, 12)}… (a deployment in progress?)`)
    }
    let index: KnnIndex | undefined
    const memory = await readMemoryRows(source, manifest, {
      first: range.first,
      end: range.end,
      keysInto: (rows, dim) => {
        const made = simdKeyIndex(rows, dim)
        index = made.index
        return made.keys
      },
    })
    return builtSegment(memory, { index, firstRow: range.first })
  }
}
