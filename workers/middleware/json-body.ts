/**
 * Guards a JSON endpoint before its schema runs: the media type must be JSON (415), the body at most
 * `maxBytes` (413, via hono/body-limit) and parseable (400 invalid_json). The parsed body stays in Hono's
 * body cache, so the route's validator does not read the stream again.
 */
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ApiError } from '../errors.ts'

export interface JsonBodyOptions {
  /** Largest body in bytes, per request (it may come from a var). */
  maxBytes: (c: Parameters<MiddlewareHandler>[0]) => number
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i

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
    const maxSize = options.maxBytes(c)
    const limit = bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `the body is over ${maxSize} bytes`)
      },
    })
    return limit(c, async () => {
      try {
        await c.req.json()
      } catch (err) {
        throw new ApiError(400, 'invalid_json', `the body is not valid JSON (${(err as Error).message})`)
      }
      await next()
    })
  }
}
