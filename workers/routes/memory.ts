/**
 * /v1/memory: learn and forget without retraining. POST adds labelled examples, DELETE forgets one (or hides a
 * built row), GET pages through the edit log, GET /export streams it as edits.jsonl for `resmem build --edits`.
 * The log holds user text: these routes always need the bearer token (403 while API_TOKEN is unset).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../app-env.ts'
import { writerOf, type Writer } from '../memory/index.ts'
import { jsonBody } from '../middleware/json-body.ts'
import { forgetRow, learnExamples, requireMemoryAccess, servedMemory } from '../operations/index.ts'
import { operationContext } from './context.ts'
import {
  ForgetResponse,
  LearnRequest,
  LearnResponse,
  MemoryIdParam,
  MemoryListQuery,
  MemoryPage,
  errorResponse,
  forbiddenWithoutToken,
  internalError,
  requiredBearer,
  unauthorized,
} from '../schemas.ts'

export { FORBIDDEN_MESSAGE } from '../operations/index.ts'

/** 403 while API_TOKEN is unset (before the body is read); with it set, the /v1/* bearer middleware has checked the token already. */
export const tokenRequired: MiddlewareHandler<AppEnv> = async function tokenRequired(c, next) {
  requireMemoryAccess(c.var.settings)
  await next()
}

const unavailable503 = errorResponse('The edit log cannot be reached, or the previous model\'s edits are being re-embedded (`memory_unavailable`); see Retry-After. Or the model could not be loaded (`model_unavailable`).')
export const common = { 401: unauthorized, 403: forbiddenWithoutToken, 500: internalError, 501: errorResponse('The EDIT_LOG Durable Object binding is missing, or the memory is float32 (`unsupported`).'), 503: unavailable503 }

export const learnRoute = createRoute({
  method: 'post',
  path: '/v1/memory',
  tags: ['memory'],
  summary: 'Learn labelled examples',
  description:
    'Adds examples to the memory without retraining: each is embedded by the served model, its residual computed at the memory\'s T, and it joins the k-NN memory at once ' +
    '(on this isolate at once, on every isolate within MEMORY_SYNC_MS). Classify with `?explain=1` to see it among the neighbours (`source: "edit"`).',
  security: requiredBearer,
  middleware: [tokenRequired, jsonBody({ maxBytes: (c) => (c.var as AppEnv['Variables']).settings.maxBodyBytes })],
  request: { body: { required: true, content: { 'application/json': { schema: LearnRequest } } } },
  responses: {
    201: { description: 'Learned.', content: { 'application/json': { schema: LearnResponse } } },
    400: errorResponse('Invalid JSON or a field that fails validation: an empty text or label, a label the model does not have (the message lists its labels), more than MAX_BATCH examples.'),
    409: errorResponse('The memory holds MAX_MEMORY_EDITS learned examples (`memory_full`), or a newer deployment continues this memory (`sealed`).'),
    413: errorResponse('The body is over MAX_BODY_BYTES.'),
    415: errorResponse('The content type is not application/json.'),
    ...common,
  },
})

export const forgetRoute = createRoute({
  method: 'delete',
  path: '/v1/memory/{id}',
  tags: ['memory'],
  summary: 'Forget an example',
  description: 'Forgets a learned example (its id), or hides a built row (`base:{row}`: a mislabelled training example, or a deletion request). It leaves every answer at once on this isolate, within MEMORY_SYNC_MS on all.',
  security: requiredBearer,
  middleware: [tokenRequired],
  request: { params: MemoryIdParam },
  responses: {
    200: { description: 'Forgotten.', content: { 'application/json': { schema: ForgetResponse } } },
    400: errorResponse('The id is neither a learned example\'s id nor `base:{row}`.'),
    404: errorResponse('No such row in the memory, or already forgotten.'),
    409: errorResponse('A newer deployment continues this memory (`sealed`).'),
    ...common,
  },
})

export const listRoute = createRoute({
  method: 'get',
  path: '/v1/memory',
  tags: ['memory'],
  summary: 'Page through the edit log',
  description: 'Entries in log order (adds and forgets, with text and label, without the encoded rows). Follow `next` as `after` until it is null.',
  security: requiredBearer,
  middleware: [tokenRequired],
  request: { query: MemoryListQuery },
  responses: {
    200: { description: 'A page of the log.', content: { 'application/json': { schema: MemoryPage } } },
    400: errorResponse('A query parameter that fails validation.'),
    ...common,
  },
})

export const exportRoute = createRoute({
  method: 'get',
  path: '/v1/memory/export',
  tags: ['memory'],
  summary: 'Export the edit log as JSONL',
  description:
    'The whole log as edits.jsonl: a header line (log epoch and version, model and memory fingerprints, labels, key scale, T), then one entry per line with the encoded rows (base64). ' +
    '`resmem memory pull` saves it; `resmem build --edits edits.jsonl` folds it into a new memory.',
  security: requiredBearer,
  middleware: [tokenRequired],
  responses: {
    200: { description: 'JSON Lines.', content: { 'application/x-ndjson': { schema: { type: 'string' } } } },
    ...common,
  },
})

const memoryOf = (c: Context<AppEnv>) => servedMemory(operationContext(c))

/** Who writes (the bearer token the middleware checked), under the deployment's limits, with the Idempotency-Key. */
export function writer(c: Context<AppEnv>): Writer {
  const token = /^bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? ''
  return writerOf(c.var.settings, token, c.req.header('idempotency-key'))
}

/** A replayed answer says so (Stripe's `Idempotent-Replayed`), without the field in the body. */
export function replayHeaders<T extends { replayed?: boolean }>(result: T): { body: Omit<T, 'replayed'>; headers: Record<string, string> } {
  const { replayed, ...body } = result
  return { body, headers: replayed ? { 'idempotent-replayed': 'true' } : {} }
}

export function memoryRoutes() {
  return new OpenAPIHono<AppEnv>()
    .openapi(learnRoute, async (c) => {
      const { examples } = c.req.valid('json')
      const { body, headers } = replayHeaders(await learnExamples(operationContext(c), examples, writer(c)))
      return c.json(body, 201, headers)
    })
    .openapi(forgetRoute, async (c) => {
      const { id } = c.req.valid('param')
      const { body, headers } = replayHeaders(await forgetRow(operationContext(c), id, writer(c)))
      return c.json(body, 200, headers)
    })
    .openapi(listRoute, async (c) => {
      const query = c.req.valid('query')
      const after = Number(query.after ?? 0)
      const limit = Number(query.limit ?? 100)
      const memory = await memoryOf(c)
      const { status, entries, more } = await memory.list(after, limit)
      const last = entries.length ? entries[entries.length - 1].version : after
      return c.json(
        {
          version: status.version,
          state: status.state,
          live: status.live,
          hidden: status.hidden ?? 0,
          maxEdits: c.var.settings.maxMemoryEdits,
          entries: entries.map(({ key: _k, residual: _r, residualScale: _s, ...e }) => (e.op === 'add' ? { ...e, id: String(e.version) } : e)),
          next: more ? last : null,
        },
        200,
      )
    })
    .openapi(exportRoute, async (c) => {
      const memory = await memoryOf(c)
      const body = await memory.export()
      return new Response(body, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-disposition': 'attachment; filename="edits.jsonl"', 'cache-control': 'no-store' } }) as never
    })
}
