/**
 * Every error leaves the worker as JSON `{"error": {"code", "message", "details"?}}` with a fitting status:
 * thrown ApiErrors, validation failures (with the field path), Hono's HTTPExceptions, a model that cannot
 * load (503), unknown paths (404) and known paths with the wrong method (405).
 */
import type { Context, ErrorHandler, Hono, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ZodError } from 'zod'
import { MemoryEditError } from '../src/memory/edits.ts'
import { LabelError } from '../src/memory/labels.ts'
import { SegmentUnavailableError } from '../src/memory/segments/index.ts'
import { ModelUnavailableError } from './classifier.ts'
import { ConfigError } from './env.ts'
import { IdempotencyKeyError, MemoryUnavailableError, MemoryWriteError } from './memory/index.ts'

/** One bad field: its path in the request (`texts.2`, `explain`) and what is wrong with it. */
export interface Issue {
  path: string
  message: string
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Issue[] }
}

/** An error meant for the client; its message is part of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function errorBody(code: string, message: string, details?: Issue[]): ErrorBody {
  return { error: details ? { code, message, details } : { code, message } }
}

/** The field paths of a zod error; the root of a target is named after it (`body`, `query`). */
export function issues(error: ZodError, root: string): Issue[] {
  const path = (parts: PropertyKey[]) => (parts.length ? parts.map(String).join('.') : root)
  const unknown = root === 'query' ? 'unknown query parameter' : 'unknown field'
  return error.issues.flatMap((i) =>
    // One issue per unknown field, at that field's path.
    i.code === 'unrecognized_keys' ? i.keys.map((key) => ({ path: path([...i.path, key]), message: unknown })) : [{ path: path(i.path), message: i.message }],
  )
}

/** A 400 naming every bad field, the first one in the message. */
export function invalidRequest(list: Issue[]): ApiError {
  const [first] = list
  const more = list.length > 1 ? ` (and ${list.length - 1} more)` : ''
  return new ApiError(400, 'invalid_request', `${first.path}: ${first.message}${more}`, list)
}

/** Validation hook for @hono/zod-openapi routes (its `defaultHook`). */
export function validationHook(result: { success: boolean; error?: ZodError; target: string }): void {
  if (!result.success && result.error) throw invalidRequest(issues(result.error, result.target === 'json' ? 'body' : result.target))
}

const HTTP_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  500: 'internal_error',
  503: 'unavailable',
}

function send(c: Context, status: ContentfulStatusCode, body: ErrorBody, headers?: Record<string, string>): Response {
  return c.json(body, status, headers)
}

/** What a thrown value answers, whichever door it came through (HTTP, a compatible route, RPC). */
export interface ErrorReply {
  status: ContentfulStatusCode
  body: ErrorBody
  headers?: Record<string, string>
}

/** Nothing thrown escapes as a bare 500: each known error gets its status and code, the rest `internal_error`. */
export function errorReply(err: unknown): ErrorReply {
  const reply = (status: ContentfulStatusCode, code: string, message: string, details?: Issue[], headers?: Record<string, string>): ErrorReply => ({ status, body: errorBody(code, message, details), headers })
  if (err instanceof ApiError) return reply(err.status, err.code, err.message, err.details, err.headers)
  if (err instanceof ModelUnavailableError) {
    return reply(503, 'model_unavailable', `the model could not be loaded: ${err.message}`, undefined, { 'retry-after': String(err.retryAfter) })
  }
  if (err instanceof SegmentUnavailableError) {
    // A shard of the memory did not answer: no answer rather than one from part of the memory.
    return reply(503, 'memory_unavailable', `the memory could not be searched: ${err.message}`, undefined, { 'retry-after': '1' })
  }
  if (err instanceof MemoryUnavailableError) {
    return reply(503, 'memory_unavailable', err.message, undefined, { 'retry-after': String(err.retryAfter) })
  }
  if (err instanceof MemoryWriteError) {
    if (err.code === 'rate_limited') return reply(429, 'rate_limited', err.message, undefined, { 'retry-after': String(err.retryAfter ?? 1) })
    if (err.code === 'unknown_label') return reply(400, 'invalid_request', err.message, [{ path: 'examples', message: err.message }])
    const status = err.code === 'not_found' ? 404 : err.code === 'idempotency_mismatch' ? 422 : 409
    return reply(status, err.code === 'full' ? 'memory_full' : err.code, err.message)
  }
  if (err instanceof LabelError) {
    if (err.code === 'invalid_label') return reply(400, 'invalid_request', err.message, [{ path: 'label', message: err.message.replace(/^label: /, '') }])
    return reply(err.code === 'not_found' ? 404 : 409, err.code, err.message)
  }
  if (err instanceof IdempotencyKeyError) {
    return reply(400, 'invalid_request', err.message, [{ path: 'Idempotency-Key', message: err.message }])
  }
  if (err instanceof MemoryEditError) {
    if (err.code === 'invalid_example') {
      // The message starts with the field's path ("examples.1.label: ..."), as validation errors name it.
      const path = /^([\w.]+): /.exec(err.message)?.[1] ?? 'examples'
      return reply(400, 'invalid_request', err.message, [{ path, message: err.message.slice(path.length + 2) }])
    }
    return reply(err.code === 'not_found' ? 404 : 501, err.code, err.message)
  }
  if (err instanceof ConfigError) {
    console.error(`resmem worker misconfigured: ${err.message}`)
    return reply(500, 'misconfigured', err.message)
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode
    return reply(status, HTTP_CODES[status] ?? `http_${status}`, err.message || 'request failed')
  }
  console.error('resmem worker: unhandled error', err)
  return reply(500, 'internal_error', 'internal error')
}

/** An error body in another API's shape (a compatible route's clients read their own). */
export interface ErrorFormat {
  /** Requests under this path get this format. */
  prefix: string
  body(reply: ErrorReply): unknown
}

/**
 * app.onError: every error as JSON, in our shape or, under a compatible route's prefix, in the shape its
 * clients parse (the bearer middleware's 401 and the body limits' 413 included).
 */
export function errorHandler(formats: readonly ErrorFormat[] = []): ErrorHandler {
  return function onError(err, c) {
    const reply = errorReply(err)
    const format = formats.find((f) => c.req.path.startsWith(f.prefix))
    return format ? c.json(format.body(reply) as object, reply.status, reply.headers) : send(c, reply.status, reply.body, reply.headers)
  }
}

/** app.onError with our error shape everywhere. */
export const onError: ErrorHandler = errorHandler()

/**
 * app.notFound: 405 with an Allow header when the path exists under other methods, else 404.
 * Hono itself answers both with 404, so the methods are looked up in the app's route table.
 */
export function notFound(app: Pick<Hono, 'routes'>): NotFoundHandler {
  return (c) => {
    const path = c.req.path
    const allowed = new Set(app.routes.filter((r) => r.method !== 'ALL' && r.path === path).map((r) => r.method.toUpperCase()))
    if (allowed.size > 0) {
      if (allowed.has('GET')) allowed.add('HEAD')
      const allow = [...allowed].sort().join(', ')
      return send(c, 405, errorBody('method_not_allowed', `${c.req.method} is not allowed on ${path} (allowed: ${allow})`), { allow })
    }
    return send(c, 404, errorBody('not_found', `no route for ${c.req.method} ${path}`))
  }
}
