/**
 * A FileSource over fetch and the Cache API, so a second page load reads the model from the browser's
 * Cache Storage instead of the network.
 *
 * manifest.json is always asked of the network (revalidated; the cached copy only when offline): it names
 * the SHA-256 of the model and the memory, and every other file of the bundle is cached under its URL plus
 * `?resmem=<those hashes>`. A new build therefore never meets a stale file, and `prune()` drops the files of
 * older builds. Anything the Cache API refuses (quota, opaque origins, no `caches`) falls back to the network.
 */
import { ArtifactError, type FileSource } from '../bundle/source.ts'

/** Bytes of one file arriving, from the network or from the cache. */
export interface FileProgress {
  /** The URL, without the cache key's query. */
  url: string
  loaded: number
  /** Bytes expected, when the server said (and did not compress). */
  total?: number
  cached: boolean
}

export interface FetchBytesOptions {
  fetch?: typeof fetch
  onProgress?: (p: FileProgress) => void
  /** Request headers (an Authorization header where the bundle is served behind a token). */
  headers?: Record<string, string>
  /** RequestInit.cache for the network request. */
  httpCache?: RequestCache
}

export interface CacheOptions extends FetchBytesOptions {
  /** Cache Storage name, or false for plain fetch. Default "resmem". */
  cache?: string | false
  /** CacheStorage to use. Default globalThis.caches. */
  caches?: CacheStorage
}

export interface BundleSourceOptions extends CacheOptions {
  /** Where the bundle's memory file is, when not beside the model (same bytes the manifest names). */
  memoryUrl?: string
}

/** Where each file came from, in the order asked. */
export interface SourceStats {
  network: string[]
  cache: string[]
}

export interface CachedBundleSource {
  source: FileSource
  stats: SourceStats
  /** Deletes cached files of this bundle's URLs that belong to other builds; resolves to how many. */
  prune(): Promise<number>
}

export const DEFAULT_CACHE = 'resmem'
const KEY_PARAM = 'resmem'

/** GET `url` into memory, reporting progress; HTTP errors become ArtifactErrors naming `label`. */
export async function fetchBytes(url: string, label: string, options: FetchBytesOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const doFetch = options.fetch ?? fetch
  const init: RequestInit = { ...(options.httpCache ? { cache: options.httpCache } : {}), ...(options.headers ? { headers: options.headers } : {}) }
  const res = await doFetch(url, Object.keys(init).length ? init : undefined)
  if (res.status === 404) throw new ArtifactError('missing_file', `${label}: not found at ${url}`)
  if (res.status === 401) throw new ArtifactError('missing_file', `${label}: HTTP 401 from ${url}: the server asks for an API token (createClassifier's \`headers\`: { authorization: 'Bearer <token>' })`)
  if (!res.ok) throw new ArtifactError('missing_file', `${label}: HTTP ${res.status} from ${url}`)
  return readBody(res, url, false, options.onProgress)
}

async function readBody(res: Response, url: string, cached: boolean, onProgress?: (p: FileProgress) => void): Promise<Uint8Array<ArrayBuffer>> {
  if (!onProgress || !res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer())
    onProgress?.({ url, loaded: bytes.length, total: bytes.length, cached })
    return bytes
  }
  // Content-Length counts the encoded bytes; with Content-Encoding the stream yields more than that.
  const length = Number(res.headers.get('content-length'))
  const total = Number.isFinite(length) && length > 0 && !res.headers.get('content-encoding') ? length : undefined
  const chunks: Uint8Array[] = []
  let loaded = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    loaded += value.length
    onProgress({ url, loaded, total, cached })
  }
  const bytes = new Uint8Array(loaded)
  let at = 0
  for (const c of chunks) {
    bytes.set(c, at)
    at += c.length
  }
  onProgress({ url, loaded, total: loaded, cached })
  return bytes
}

/** The named cache, or undefined where there is none (no Cache API, opaque origin, disabled). */
export async function openCache(options: CacheOptions): Promise<Cache | undefined> {
  if (options.cache === false) return undefined
  const storage = options.caches ?? (globalThis as { caches?: CacheStorage }).caches
  if (!storage) return undefined
  try {
    return await storage.open(options.cache ?? DEFAULT_CACHE)
  } catch {
    return undefined
  }
}

/** `url` with `?resmem=<version>` (the cache key of one build's copy of the file). */
export function cacheKey(url: string, version: string): string {
  const u = new URL(url)
  u.searchParams.set(KEY_PARAM, version)
  return u.toString()
}

/** Cache writes still running (writeBehind). */
const pendingWrites = new Set<Promise<unknown>>()

/**
 * Stores a copy without holding up the caller: a page load waits for its bytes, not for the Cache API. Two page
 * loads stalled (90 s and 300 s, on a loaded 2-core machine) right after a 14-16 MB runtime file had downloaded,
 * with nothing after it; a write that fails or never ends costs the next page load a download, never this one its model.
 */
function writeBehind(cache: Cache, key: string, response: Response): void {
  const write: Promise<unknown> = cache
    .put(key, response)
    .catch(() => undefined)
    .finally(() => pendingWrites.delete(write))
  pendingWrites.add(write)
}

/** Waits for `work`, at most `timeoutMs`; resolves to whether it ended (a rejection counts as ended). */
export async function settledWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))
  try {
    return await Promise.race([work.then(() => true, () => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Waits for the cache writes started so far, at most `timeoutMs`; resolves to whether they all ended. */
export function cacheWritesSettled(timeoutMs: number): Promise<boolean> {
  return settledWithin(Promise.all([...pendingWrites]), timeoutMs)
}

/** `url` from `cache` under `key`, else from the network (then stored under `key`, behind the caller). */
export async function readThrough(
  cache: Cache | undefined,
  url: string,
  key: string,
  label: string,
  options: FetchBytesOptions = {},
): Promise<{ bytes: Uint8Array<ArrayBuffer>; cached: boolean }> {
  if (cache) {
    const hit = await cache.match(key).catch(() => undefined)
    if (hit) return { bytes: await readBody(hit, url, true, options.onProgress), cached: true }
  }
  const bytes = await fetchBytes(url, label, options)
  if (cache) {
    writeBehind(cache, key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }))
  }
  return { bytes, cached: false }
}

interface ManifestHashes {
  version: string
  memoryFile: string
}

function hashesOf(bytes: Uint8Array): ManifestHashes | undefined {
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as { model?: { sha256?: unknown }; memory?: { sha256?: unknown; file?: unknown } }
    const model = m.model?.sha256
    const memory = m.memory?.sha256
    if (typeof model !== 'string' || typeof memory !== 'string') return undefined
    return { version: `${model.slice(0, 16)}-${memory.slice(0, 16)}`, memoryFile: typeof m.memory?.file === 'string' ? m.memory.file : 'memory.bin' }
  } catch {
    // loadBundle reports a broken manifest with the file's name; here it only means "do not cache".
    return undefined
  }
}

/**
 * The files of the bundle at `modelUrl` (absolute, the folder holding manifest.json).
 * @example
 * const { source, stats } = cachedBundleSource('https://example.com/models/spam/')
 * const bundle = await loadBundle(source) // stats.cache lists what did not touch the network
 */
export function cachedBundleSource(modelUrl: string, options: BundleSourceOptions = {}): CachedBundleSource {
  const base = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`
  const manifestUrl = new URL('manifest.json', base).toString()
  const stats: SourceStats = { network: [], cache: [] }
  const cache = openCache(options)
  let manifest: Promise<ManifestHashes | undefined> | undefined

  const urlOf = (path: string, hashes: ManifestHashes | undefined) =>
    options.memoryUrl && hashes && path === hashes.memoryFile ? options.memoryUrl : new URL(path, base).toString()

  async function readManifest(): Promise<{ bytes: Uint8Array; hashes: ManifestHashes | undefined }> {
    const c = await cache
    let bytes: Uint8Array<ArrayBuffer>
    try {
      bytes = await fetchBytes(manifestUrl, 'manifest.json', { ...options, httpCache: 'no-cache' })
      stats.network.push(manifestUrl)
      if (c) writeBehind(c, manifestUrl, new Response(bytes))
    } catch (err) {
      // Offline (fetch rejected, not an HTTP error): the last manifest seen, if any.
      const hit = err instanceof TypeError ? await c?.match(manifestUrl).catch(() => undefined) : undefined
      if (!hit) throw err
      bytes = new Uint8Array(await hit.arrayBuffer())
      stats.cache.push(manifestUrl)
    }
    return { bytes, hashes: hashesOf(bytes) }
  }

  let manifestBytes: Promise<Uint8Array> | undefined
  const source: FileSource = async (path) => {
    if (!manifestBytes) {
      const read = readManifest()
      manifestBytes = read.then((r) => r.bytes)
      manifest = read.then((r) => r.hashes)
    }
    if (path === 'manifest.json') return manifestBytes
    const hashes = await manifest
    const url = urlOf(path, hashes)
    const c = hashes ? await cache : undefined
    const { bytes, cached } = await readThrough(c, url, hashes ? cacheKey(url, hashes.version) : url, path, options)
    ;(cached ? stats.cache : stats.network).push(url)
    return bytes
  }

  async function prune(): Promise<number> {
    const hashes = await manifest
    const c = await cache
    if (!hashes || !c) return 0
    let deleted = 0
    for (const request of await c.keys()) {
      const u = new URL(request.url)
      const version = u.searchParams.get(KEY_PARAM)
      if (version === null || version === hashes.version) continue
      u.searchParams.delete(KEY_PARAM)
      const plain = u.toString()
      if ((plain.startsWith(base) || plain === options.memoryUrl) && (await c.delete(request))) deleted++
    }
    return deleted
  }

  return { source, stats, prune }
}
