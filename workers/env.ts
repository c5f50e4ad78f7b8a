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
  /** Most texts in one request. Default 32. */
  MAX_BATCH?: string
  /** Largest request body in bytes. Default 1 MiB. */
  MAX_BODY_BYTES?: string
  /** Seconds to wait before trying a failed model load again. Default 10. */
  LOAD_RETRY_SECONDS?: string
}

export interface Settings {
  model: string
  maxBatch: number
  maxBodyBytes: number
  loadRetryMs: number
}

export const DEFAULTS: Settings = { model: 'spam', maxBatch: 32, maxBodyBytes: 1 << 20, loadRetryMs: 10_000 }

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
  }
}
