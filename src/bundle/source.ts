/**
 * Where a model bundle's files come from. The core asks for paths relative to the bundle root
 * ("config.json", "onnx/model.onnx", "memory.bin"); each edge answers from what it has: a folder (Node),
 * Workers Static Assets (workerd), fetch + Cache API (browsers), or a Hugging Face style hub.
 */
import { CodedError } from '../errors.ts'

export type FileSource = (path: string) => Promise<Uint8Array>

export type ArtifactErrorCode = 'missing_file' | 'corrupt' | 'model_mismatch' | 'dimension_mismatch' | 'label_mismatch'

/** A bundle file that is missing or does not agree with the others. */
export class ArtifactError extends CodedError<ArtifactErrorCode> {
  override readonly name = 'ArtifactError'
}

export interface FetchSourceOptions {
  fetch?: typeof fetch
  /** Extra request headers (for example an Authorization header for a private hub). */
  headers?: Record<string, string>
}

/** Files under a base URL: `${base}/${path}`. */
export function fetchSource(baseUrl: string, options: FetchSourceOptions = {}): FileSource {
  const doFetch = options.fetch ?? fetch
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`
  return async (path) => {
    const url = new URL(path, base).toString()
    const res = await doFetch(url, { headers: options.headers })
    if (res.status === 404) throw new ArtifactError('missing_file', `${path}: not found at ${url}`)
    if (!res.ok) throw new ArtifactError('missing_file', `${path}: HTTP ${res.status} from ${url}`)
    return new Uint8Array(await res.arrayBuffer())
  }
}

export interface HubOptions extends FetchSourceOptions {
  /** Hub host, as transformers.js' env.remoteHost. */
  host?: string
  revision?: string
}

/**
 * A model repository on a Hugging Face style hub (`{host}/{repo}/resolve/{revision}/{path}`), the URL scheme
 * transformers.js uses for remote models.
 */
export function hubSource(repo: string, options: HubOptions = {}): FileSource {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(repo)) throw new TypeError(`"${repo}" is not a hub repository id (owner/name)`)
  const host = (options.host ?? 'https://huggingface.co').replace(/\/+$/, '')
  const revision = encodeURIComponent(options.revision ?? 'main')
  return fetchSource(`${host}/${repo}/resolve/${revision}/`, options)
}
