/** POST /v1/classify: one text or a batch, optionally with the neighbours that moved each decision. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import { jsonBody } from '../middleware/json-body.ts'
import { classifyFresh } from '../operations/index.ts'
import { operationContext } from './context.ts'
import { Classification, ClassifyQuery, ClassifyRequest, ClassifyResults, errorResponse, internalError, optionalBearer, unauthorized } from '../schemas.ts'

export const classifyRoute = createRoute({
  method: 'post',
  path: '/v1/classify',
  tags: ['classify'],
  summary: 'Classify one text or a batch',
  description:
    'Body `{"text": "..."}` answers one Classification object; body `{"texts": [...]}` answers `{"results": [...]}` in input order. ' +
    'Scores are ResMem probabilities (the base model plus the residuals of its k nearest memorized training examples); `base` is the model alone.',
  security: optionalBearer,
  middleware: [jsonBody({ maxBytes: (c) => (c.var as AppEnv['Variables']).settings.maxBodyBytes })],
  request: {
    query: ClassifyQuery,
    body: { required: true, content: { 'application/json': { schema: ClassifyRequest } } },
  },
  responses: {
    200: {
      description: 'A Classification for `text`, `{"results": [...]}` for `texts`.',
      content: { 'application/json': { schema: z.union([Classification, ClassifyResults]) } },
    },
    400: errorResponse('Invalid JSON, a body cut short (`bad_request`), or a field or query parameter that fails validation (its path is in `details`; unknown ones included, empty or whitespace-only texts too).'),
    401: unauthorized,
    413: errorResponse('The body is over MAX_BODY_BYTES.'),
    415: errorResponse('The content type is not application/json.'),
    503: errorResponse('The model could not be loaded (`model_unavailable`), or the edit log could not be read (`memory_unavailable`); see Retry-After.'),
    500: internalError,
  },
})

export function classifyRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(classifyRoute, async (c) => {
    const body = c.req.valid('json')
    const { explain, k, alpha, abstain } = c.req.valid('query')
    const texts = body.texts ?? [body.text as string]
    const { results, staleMs } = await classifyFresh(operationContext(c), {
      texts,
      explain: explain === '1' || explain === 'true',
      k: k === undefined ? undefined : Number(k),
      alpha: alpha === undefined ? undefined : Number(alpha),
      abstain: abstain === '1' || abstain === 'true',
    })
    return c.json(body.texts ? { results } : results[0], 200, staleMs ? { 'memory-stale-ms': String(staleMs) } : {})
  })
}
