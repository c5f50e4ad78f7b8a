/**
 * The ResMem API as routes to mount in an existing Hono app. The routes forward each request under the mount
 * path to a whole ResMem app (createApp) with the mount path taken off, so everything the app does (its error
 * shapes, 404s, auth, CORS, the bundle's files) behaves under `/ml` as it does at the root.
 */
import { Hono, type Context, type ExecutionContext } from 'hono'
import { basePath } from 'hono/route'
import { createApp, type AppOptions } from './app.ts'
import type { Bindings } from './env.ts'

export interface ResMemRoutesOptions extends AppOptions {
  /** The bundle folder among the Worker's static assets; default: the MODEL var, else "spam". */
  model?: string
}

const OPENAPI_PATH = '/openapi.json'

function executionContext(c: Context): ExecutionContext | undefined {
  try {
    return c.executionCtx
  } catch {
    // Hono throws when the runtime gave no context (app.request in tests).
    return undefined
  }
}

/** The OpenAPI document names the server it was served from: the mount path belongs to it. */
async function withMountedServer(res: Response, origin: string, prefix: string): Promise<Response> {
  if (!res.ok || !prefix) return res
  const doc = (await res.json()) as { servers?: { url: string }[] }
  doc.servers = [{ url: origin + prefix }]
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  return new Response(JSON.stringify(doc), { status: res.status, headers })
}

/**
 * @example
 * import { Hono } from 'hono'
 * import { resmemRoutes } from 'resmem-edge/workers'
 *
 * const app = new Hono()
 * app.get('/', (c) => c.text('my app'))
 * app.route('/ml', resmemRoutes()) // POST /ml/v1/classify, GET /ml/v1/model, /ml/healthz, /ml/openapi.json
 * export default app
 */
export function resmemRoutes(options: ResMemRoutesOptions = {}): Hono<{ Bindings: Bindings }> {
  const api = createApp(options)
  const routes = new Hono<{ Bindings: Bindings }>()
  routes.all('/*', async function resmem(c) {
    const mount = basePath(c)
    const prefix = mount === '/' ? '' : mount.replace(/\/$/, '')
    const url = new URL(c.req.url)
    url.pathname = url.pathname.slice(prefix.length) || '/'
    const env = options.model ? { ...c.env, MODEL: options.model } : c.env
    const res = await api.fetch(new Request(url, c.req.raw), env, executionContext(c))
    return url.pathname === OPENAPI_PATH ? withMountedServer(res, url.origin, prefix) : res
  })
  return routes
}
