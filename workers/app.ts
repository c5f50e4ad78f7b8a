/**
 * The ResMem HTTP API as a Hono app: settings from the vars, the lazily loaded model in `c.var.model`,
 * the routes, /openapi.json generated from their schemas, and JSON errors for everything else.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import type { AppEnv } from './app-env.ts'
import { lazyModel, loadFromBundleSource, type ModelLoader } from './classifier.ts'
import { settings } from './env.ts'
import { COMPAT_ERROR_FORMATS, compatRoutes } from './compat/index.ts'
import { errorHandler, notFound, validationHook } from './errors.ts'
import { bearerToken } from './middleware/auth.ts'
import { apiCors } from './middleware/cors.ts'
import { classifyRoutes } from './routes/classify.ts'
import { healthRoutes } from './routes/health.ts'
import { labelRoutes } from './routes/labels.ts'
import { memoryRoutes } from './routes/memory.ts'
import { modelRoutes } from './routes/model.ts'
import { MODEL_FILES_PATH, webRoutes } from './routes/web.ts'
import { ErrorResponse } from './schemas.ts'

export interface AppOptions {
  /** How the model is loaded; lazyModel() makes it once per app (per isolate for the default app). */
  loader?: ModelLoader
  /** A model already made lazy (lazyModel), to share one per isolate with the RPC entrypoint; wins over `loader`. */
  sharedModel?: ModelLoader
}

/**
 * @example
 * export default createApp() // the worker: model from Workers Static Assets, onnxruntime-web in wasm
 */
export function createApp(options: AppOptions = {}) {
  const model = options.sharedModel ?? lazyModel(options.loader ?? loadFromBundleSource)
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })

  // Defaults from hono/secure-headers (nosniff, no framing by other sites, no referrer, CORP same-origin...);
  // a route may set its own header first (the public files set CORP cross-origin).
  app.use(secureHeaders({ overwrite: false }))

  app.use(async function context(c, next) {
    const s = settings(c.env)
    c.set('settings', s)
    c.set('model', () => model(c.env, s))
    await next()
  })

  // The API: CORS from CORS_ORIGINS, then the bearer token from API_TOKEN (a preflight never carries one).
  // The bundle's files under /v1/model/files/ are files for the demo page (CORS *): memory.bin is derived from
  // the training data, so with API_TOKEN set they need the token too, unless PUBLIC_MODEL_FILES is "true".
  app.use('/v1/*', exceptModelFiles(apiCors({ origins: (c) => c.var.settings.corsOrigins })))
  app.use('/v1/*', exceptModelFiles(bearerToken({ tokens: (c) => c.var.settings.apiTokens }), (c) => c.var.settings.publicModelFiles === true))

  app.route('/', classifyRoutes())
  app.route('/', memoryRoutes())
  app.route('/', labelRoutes())
  app.route('/', modelRoutes())
  app.route('/', healthRoutes())
  // Hugging Face, Workers AI and OpenAI moderation shapes (their clients, unchanged).
  app.route('/', compatRoutes())
  // The demo page and browser build at `/` and `/web/*`, the bundle's files for in-browser classifiers.
  app.route('/', webRoutes())

  app.openAPIRegistry.register('Error', ErrorResponse)
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'Required on /v1/classify, /v1/model, /v1/model/files/* and the compatible routes (/v1/hf, /v1/workers-ai, /v1/openai) when the API_TOKEN secret is set; always on /v1/memory.',
  })
  app.doc('/openapi.json', (c) => ({
    openapi: '3.0.0',
    info: {
      title: 'ResMem Edge',
      version: '0.1.0',
      description: 'Text classification with a small transformer plus an int8 memory of its training residuals, served from Cloudflare Workers.',
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }))

  app.notFound(notFound(app))
  app.onError(errorHandler(COMPAT_ERROR_FORMATS))
  return app
}

/** Runs `middleware` except on the bundle's files, or only where `skip` says so for them. */
function exceptModelFiles(middleware: MiddlewareHandler<AppEnv>, skip: (c: Parameters<MiddlewareHandler<AppEnv>>[0]) => boolean = () => true): MiddlewareHandler<AppEnv> {
  return async function api(c, next) {
    if (c.req.path.startsWith(MODEL_FILES_PATH) && skip(c)) return next()
    return middleware(c, next)
  }
}
