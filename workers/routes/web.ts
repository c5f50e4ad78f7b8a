/**
 * The browser side of the worker: the demo page at `/`, the browser build (`npm run build:web`, staged into
 * the assets' `web/` folder) at `/web/*`, and the served bundle's files at `/v1/model/files/*` for
 * classifiers running in pages (src/browser). All of it is public and may be embedded by any origin (CORS
 * `*`); set the var PUBLIC_MODEL_FILES = "false" to keep the model files private (the page then classifies
 * on the edge only).
 */
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../app-env.ts'
import { ApiError } from '../errors.ts'

/** The assets folder of the browser build (scripts/web/build.ts stageWeb). */
export const WEB_ASSETS = 'web'
export const MODEL_FILES_PATH = '/v1/model/files/'

// The binding ignores the host; only the path selects the asset.
const ORIGIN = 'https://assets.local'
// Folder/file names of letters, digits, '_', '-', '.', none starting with a dot (no '..', no hidden files).
const SAFE_PATH = /^[\w-][\w.-]*(?:\/[\w-][\w.-]*)*$/
// Request headers the assets binding may answer from (304s, ranges).
const PASSED = ['if-none-match', 'if-modified-since', 'range']

async function asset(c: Context<AppEnv>, path: string, missing: string, headers: Record<string, string> = {}): Promise<Response> {
  if (!SAFE_PATH.test(path)) throw new ApiError(404, 'not_found', `${c.req.path}: no such file`)
  const init: Record<string, string> = {}
  for (const name of PASSED) {
    const value = c.req.header(name)
    if (value) init[name] = value
  }
  const res = await c.env.ASSETS.fetch(new Request(`${ORIGIN}/${path}`, { method: c.req.method === 'HEAD' ? 'HEAD' : 'GET', headers: init }))
  if (res.status === 404) throw new ApiError(404, 'not_found', missing)
  const out = new Response(res.body, res)
  out.headers.set('access-control-allow-origin', '*')
  // Readable by pages of any origin, also cross-origin-isolated ones (the app's secure headers default to same-origin).
  out.headers.set('cross-origin-resource-policy', 'cross-origin')
  for (const [name, value] of Object.entries(headers)) out.headers.set(name, value)
  return out
}

/**
 * @example
 * app.route('/', webRoutes())
 */
export function webRoutes() {
  const app = new Hono<AppEnv>()
  const notBuilt = 'the browser build is not among the assets (run `npm run build:worker`, which runs `npm run build:web`)'

  app.get('/', (c) => asset(c, `${WEB_ASSETS}/index.html`, notBuilt, { 'cache-control': 'no-cache' }))

  app.get('/web/*', (c) => {
    const path = c.req.path.slice('/web/'.length)
    return asset(c, `${WEB_ASSETS}/${path}`, `${c.req.path}: not in the browser build`)
  })

  app.get(`${MODEL_FILES_PATH}*`, (c) => {
    const { model } = c.var.settings
    if (c.var.settings.publicModelFiles === false) throw new ApiError(404, 'not_found', 'the model files are not public here (PUBLIC_MODEL_FILES = "false"); classify with POST /v1/classify')
    const path = c.req.path.slice(MODEL_FILES_PATH.length)
    // The browser revalidates manifest.json each load; the other files it keeps in its Cache API by hash.
    const headers: Record<string, string> = path === 'manifest.json' ? { 'cache-control': 'no-cache' } : {}
    return asset(c, `${model}/${path}`, `${c.req.path}: not a file of the ${model} bundle`, headers)
  })

  return app
}
