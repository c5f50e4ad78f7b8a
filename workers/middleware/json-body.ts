/**
 * Guards a JSON endpoint before its schema runs: the media type must be JSON (415), the body at most
 * `maxBytes` (413), complete (400 bad_request when the connection breaks mid-body) and parseable
 * (400 invalid_json). The parsed body stays in Hono's body cache, so the
 * route's validator does not read the stream again.
 *
 * The size limit holds before any parsing and whatever the headers say: a declared Content-Length over the
 * limit is refused unread, and the stream itself is counted as it is read and cancelled at the first byte
 * past the limit. (hono/body-limit trusts a Content-Length without Transfer-Encoding and then reads the whole
 * stream, so a request whose header understates its body, as an in-process caller can send, got through.)
 */
import type { Context, MiddlewareHandler } from 'hono'
import { ApiError } from '../errors.ts'

export interface JsonBodyOptions {
  /** Largest body in bytes, per request (it may come from a var). */
  maxBytes: (c: Context) => number
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i

/** The body's bytes, or undefined as soon as they pass `maxBytes` (the rest is never read). */
export async function readBounded(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!body) return new Uint8Array(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      // Tell the runtime the rest is not wanted (it discards it or closes the connection).
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/**
 * @example
 * app.post('/v1/classify', jsonBody({ maxBytes: () => 1 << 20 }), handler)
 */
export function jsonBody(options: JsonBodyOptions): MiddlewareHandler {
  return async function jsonBody(c, next) {
    const contentType = c.req.header('content-type')
    const mediaType = contentType?.split(';')[0].trim() ?? ''
    if (!JSON_TYPE.test(mediaType)) {
      throw new ApiError(415, 'unsupported_media_type', `expected content-type application/json, got ${contentType ? `"${contentType}"` : 'none'}`)
    }
    const maxBytes = options.maxBytes(c)
    const tooLarge = () => new ApiError(413, 'payload_too_large', `the body is over ${maxBytes} bytes`)
    const declared = Number(c.req.header('content-length'))
    if (declared > maxBytes) throw tooLarge()
    let bytes: Uint8Array<ArrayBuffer> | undefined
    try {
      bytes = await readBounded(c.req.raw.body, maxBytes)
    } catch (err) {
      // The client went away or sent less than its Content-Length: its fault, not ours (no 5xx, no log).
      throw new ApiError(400, 'bad_request', `the body could not be read to its end (${(err as Error).message})`)
    }
    if (!bytes) throw tooLarge()
    // The validator reads the body again through c.req.json(): hand it the bytes already read.
    c.req.raw = new Request(c.req.raw, { body: bytes })
    try {
      await c.req.json()
    } catch (err) {
      throw new ApiError(400, 'invalid_json', `the body is not valid JSON (${(err as Error).message})`)
    }
    await next()
  }
}
