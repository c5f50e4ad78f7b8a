/**
 * What the worker receives from wrangler.toml: the ASSETS binding that holds the built bundles and the
 * [vars], parsed once into typed settings with defaults.
 */

/** The slice of the Workers `Fetcher` that Workers Static Assets provide. */
export interface AssetsBinding {
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>
}

export interface Bindings {
  /** Workers Static Assets: the built bundles, one folder per model (`spam/manifest.json`, ...). */
  ASSETS: AssetsBinding
  /** The bundle folder to serve. Default "spam". */
  MODEL?: string
  /** Where bundles are read: "assets" (default, Workers Static Assets) or "r2" (the BUNDLES bucket). */
  BUNDLE_SOURCE?: string
  /** An R2 bucket holding bundles as `<folder>/<file>` objects, read when BUNDLE_SOURCE is "r2". */
  BUNDLES?: import('./r2.ts').R2BucketLike
  /** Most texts in one request. Default 32. */
  MAX_BATCH?: string
  /** Largest request body in bytes. Default 1 MiB. */
  MAX_BODY_BYTES?: string
  /** Seconds to wait before trying a failed model load again. Default 10. */
  LOAD_RETRY_SECONDS?: string
  /**
   * The bundle's files at /v1/model/files/ (routes/web.ts): "false" never serves them; "true" serves them to
   * anyone; unset, they need the bearer token whenever API_TOKEN is set (memory.bin is derived from user data).
   */
  PUBLIC_MODEL_FILES?: string
  /**
   * Secret (`wrangler secret put API_TOKEN`): bearer token(s) that /v1/* requires, comma-separated during a
   * rotation ("new,old"). Unset: no auth.
   */
  API_TOKEN?: string
  /** Origins whose pages may call /v1/* from a browser, comma-separated, or "*". Unset: none (same origin only). */
  CORS_ORIGINS?: string
  /** The edit logs of served memories (workers/objects/edit-log.ts). Unbound: /v1/memory answers 501. */
  EDIT_LOG?: DurableObjectNamespace<import('./objects/edit-log.ts').EditLog>
  /** An isolate pulls new edits when its copy is older than this many ms. Default 1000. */
  MEMORY_SYNC_MS?: string
  /** Most learned examples plus hidden built rows a memory holds. Default 100000. */
  MAX_MEMORY_EDITS?: string
  /** Most labels a memory holds besides the model's (POST /v1/labels). Default 32. */
  MEMORY_MAX_LABELS?: string
  /** Writes (POST or DELETE /v1/memory) per minute per token, a burst of that many at most; "0": no limit. Default 60. */
  MEMORY_WRITES_PER_MINUTE?: string
  /** How old (ms) a copy of the edits may be served when the edit log cannot be reached; past it classify answers 503. Default 60000. */
  MEMORY_MAX_STALE_MS?: string
  /** Longest wait (ms) on the edit log before a request treats it as unreachable. Default 5000. */
  MEMORY_LOG_TIMEOUT_MS?: string
  /** The memory's row-range shards (workers/objects/memory-shard.ts), used when MEMORY_SHARDS is over 0. */
  MEMORY_SHARD?: DurableObjectNamespace<import('./objects/memory-shard.ts').MemoryShard>
  /** Durable Object shards the memory is split into by row range; 0 (default): the memory lives in each isolate. */
  MEMORY_SHARDS?: string
  /** Longest wait for a shard's answer, in ms; a shard that misses it makes the request a 503. Default 10000. */
  MEMORY_SHARD_TIMEOUT_MS?: string
  /** "on": texts waiting for the model run together (src/model/micro-batch.ts); default "off": each request's texts on their own. */
  MICRO_BATCH?: string
  /** Labels that /v1/openai/moderations reports as flagged (comma-separated); unset: that route answers 501. */
  MODERATION_LABELS?: string
  /** "off": answers carry no `novelty`/`unfamiliar`, and a build whose memory is off skips the search; default "on". */
  NOVELTY?: string
  /** The deployment's miscoverage of prediction sets `set`, in (0, 1); default: the manifest's (0.1). */
  CONFORMAL_ALPHA?: string
}

export interface Settings {
  model: string
  maxBatch: number
  maxBodyBytes: number
  loadRetryMs: number
  /** The accepted bearer tokens; undefined when API_TOKEN is unset (auth off). */
  apiTokens?: readonly string[]
  /** The allowed browser origins, '*' for any; undefined when CORS_ORIGINS is unset (no CORS headers). */
  corsOrigins?: readonly string[] | '*'
  memorySyncMs: number
  maxMemoryEdits: number
  maxMemoryLabels: number
  memoryWritesPerMinute: number
  memoryMaxStaleMs: number
  memoryLogTimeoutMs: number
  memoryShards: number
  memoryShardTimeoutMs: number
  /** Texts of concurrent requests share onnxruntime runs (MICRO_BATCH). */
  microBatch: boolean
  /** Answers carry `novelty` and `unfamiliar` (NOVELTY). */
  novelty: boolean
  /** CONFORMAL_ALPHA; undefined: the manifest's. */
  alpha?: number
  /** Where bundles are read (BUNDLE_SOURCE). */
  bundleSource: BundleSourceKind
  /** Labels flagged by the moderation route (MODERATION_LABELS); undefined: not configured. */
  moderationLabels?: readonly string[]
  /** PUBLIC_MODEL_FILES: true, false, or undefined when unset (the token decides). */
  publicModelFiles?: boolean
}

export type BundleSourceKind = 'assets' | 'r2'

export const DEFAULTS: Settings = { model: 'spam', maxBatch: 32, maxBodyBytes: 1 << 20, loadRetryMs: 10_000, memorySyncMs: 1000, maxMemoryEdits: 100_000, maxMemoryLabels: 32, memoryWritesPerMinute: 60, memoryMaxStaleMs: 60_000, memoryLogTimeoutMs: 5000, memoryShards: 0, memoryShardTimeoutMs: 10_000, microBatch: false, novelty: true, bundleSource: 'assets' }

/** Shortest accepted API token: 16 characters of the bearer token alphabet (RFC 6750 b64token). */
export const MIN_TOKEN_LENGTH = 16
const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/

/** A [vars] value that cannot be used: the deployment is wrong, not the request. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got "${value}"`)
  return n
}

function nonNegativeInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be an integer >= 0, got "${value}"`)
  return n
}

function nonNegative(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a number >= 0, got "${value}"`)
  return n
}

/** Typed settings from the bindings; throws ConfigError naming the bad var. */
export function settings(env: Partial<Bindings> = {}): Settings {
  const model = env.MODEL || DEFAULTS.model
  // The name becomes a path inside the assets: one folder, no traversal.
  if (!/^[\w][\w.-]*$/.test(model)) throw new ConfigError(`MODEL must be a bundle folder name (letters, digits, . _ -), got "${model}"`)
  return {
    model,
    maxBatch: positiveInt('MAX_BATCH', env.MAX_BATCH, DEFAULTS.maxBatch),
    maxBodyBytes: positiveInt('MAX_BODY_BYTES', env.MAX_BODY_BYTES, DEFAULTS.maxBodyBytes),
    loadRetryMs: nonNegative('LOAD_RETRY_SECONDS', env.LOAD_RETRY_SECONDS, DEFAULTS.loadRetryMs / 1000) * 1000,
    apiTokens: apiTokens(env.API_TOKEN),
    corsOrigins: corsOrigins(env.CORS_ORIGINS),
    memorySyncMs: nonNegative('MEMORY_SYNC_MS', env.MEMORY_SYNC_MS, DEFAULTS.memorySyncMs),
    maxMemoryEdits: positiveInt('MAX_MEMORY_EDITS', env.MAX_MEMORY_EDITS, DEFAULTS.maxMemoryEdits),
    maxMemoryLabels: positiveInt('MEMORY_MAX_LABELS', env.MEMORY_MAX_LABELS, DEFAULTS.maxMemoryLabels),
    memoryWritesPerMinute: nonNegativeInt('MEMORY_WRITES_PER_MINUTE', env.MEMORY_WRITES_PER_MINUTE, DEFAULTS.memoryWritesPerMinute),
    memoryMaxStaleMs: nonNegative('MEMORY_MAX_STALE_MS', env.MEMORY_MAX_STALE_MS, DEFAULTS.memoryMaxStaleMs),
    memoryLogTimeoutMs: positiveInt('MEMORY_LOG_TIMEOUT_MS', env.MEMORY_LOG_TIMEOUT_MS, DEFAULTS.memoryLogTimeoutMs),
    memoryShards: shardCount(env.MEMORY_SHARDS),
    memoryShardTimeoutMs: positiveInt('MEMORY_SHARD_TIMEOUT_MS', env.MEMORY_SHARD_TIMEOUT_MS, DEFAULTS.memoryShardTimeoutMs),
    microBatch: onOff('MICRO_BATCH', env.MICRO_BATCH, DEFAULTS.microBatch),
    novelty: onOff('NOVELTY', env.NOVELTY, DEFAULTS.novelty),
    alpha: alpha(env.CONFORMAL_ALPHA),
    bundleSource: bundleSourceKind(env.BUNDLE_SOURCE),
    moderationLabels: env.MODERATION_LABELS?.trim() ? list(env.MODERATION_LABELS) : undefined,
    publicModelFiles: trueFalse('PUBLIC_MODEL_FILES', env.PUBLIC_MODEL_FILES),
  }
}

function bundleSourceKind(value: string | undefined): BundleSourceKind {
  if (value === undefined || value === '') return DEFAULTS.bundleSource
  if (value === 'assets' || value === 'r2') return value
  throw new ConfigError(`BUNDLE_SOURCE must be "assets" or "r2", got "${value}"`)
}

/** Most shards: a request fans out to each of them. */
export const MAX_MEMORY_SHARDS = 64

function shardCount(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULTS.memoryShards
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > MAX_MEMORY_SHARDS) throw new ConfigError(`MEMORY_SHARDS must be an integer in 0..${MAX_MEMORY_SHARDS} (0: no shards), got "${value}"`)
  return n
}

/** "true" or "false" exactly: "False", "no" or "0" would otherwise act as unset, and an unusable var fails closed. */
function trueFalse(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined
  if (value === 'true' || value === 'false') return value === 'true'
  throw new ConfigError(`${name} must be "true" or "false" (or unset), got "${value}"`)
}

function alpha(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  if (!(n > 0 && n < 1)) throw new ConfigError(`CONFORMAL_ALPHA must be a number in (0, 1), got "${value}"`)
  return n
}

function onOff(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback
  if (value === 'on' || value === 'off') return value === 'on'
  throw new ConfigError(`${name} must be "on" or "off", got "${value}"`)
}

const list = (value: string) => value.split(/[\s,]+/).filter(Boolean)

/**
 * API_TOKEN: unset means no auth; set, it must hold at least one usable token, else every /v1 request fails
 * closed (500 misconfigured) rather than open. The message never echoes the secret.
 */
function apiTokens(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined
  const tokens = list(value)
  if (tokens.length === 0) throw new ConfigError('API_TOKEN is set but holds no token (unset it to turn auth off)')
  for (const [i, token] of tokens.entries()) {
    if (!TOKEN.test(token) || token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(`API_TOKEN: token ${i + 1} of ${tokens.length} must be at least ${MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 . _ ~ + / - (then = padding)`)
    }
  }
  return tokens
}

/** CORS_ORIGINS: "*", or origins as a browser sends them (`https://app.example.com`, no path, no trailing slash). */
function corsOrigins(value: string | undefined): readonly string[] | '*' | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const origins = list(value)
  if (origins.includes('*')) {
    if (origins.length > 1) throw new ConfigError(`CORS_ORIGINS must be "*" alone or a list of origins, got "${value}"`)
    return '*'
  }
  for (const origin of origins) {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin like https://app.example.com (scheme, host, optional port; no path)`)
    }
  }
  return origins
}
