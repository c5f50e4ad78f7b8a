/**
 * CORS for the API from the CORS_ORIGINS allow-list (hono/cors). Unset, the API sends no CORS headers and
 * answers OPTIONS with 405, as any other method it does not serve: only same-origin pages can read it.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'

export interface ApiCorsOptions {
  /** The allowed origins for this request, '*' for any, undefined for none (no CORS at all). */
  origins: (c: Context) => readonly string[] | '*' | undefined
}

/**
 * @example
 * app.use('/v1/*', apiCors({ origins: (c) => c.var.settings.corsOrigins }))
 */
export function apiCors(options: ApiCorsOptions): MiddlewareHandler {
  const handler = cors({
    origin: (origin, c) => {
      const allowed = options.origins(c)
      if (allowed === '*') return '*'
      return allowed?.includes(origin) ? origin : null
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowHeaders: ['authorization', 'content-type'],
    // Browsers may read these from a cross-origin answer (CORS only exposes a few headers by default).
    exposeHeaders: ['retry-after', 'www-authenticate'],
    maxAge: 600,
  })
  return async function apiCors(c, next) {
    if (options.origins(c) === undefined) return next()
    return handler(c, next)
  }
}
