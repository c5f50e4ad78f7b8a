/**
 * /v1/labels: labels that live in the memory (src/memory/labels.ts). POST adds one (then teach it with POST
 * /v1/memory), DELETE removes one and forgets its learned rows, GET lists every served label. Writes need the
 * bearer token as memory writes do; they are entries of the same edit log (idempotency, rate limits, export).
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import { jsonBody } from '../middleware/json-body.ts'
import { addMemoryLabel, listLabels, removeMemoryLabel } from '../operations/index.ts'
import { AddLabelRequest, AddLabelResponse, LabelList, LabelParam, RemoveLabelResponse, errorResponse, internalError, optionalBearer, requiredBearer, unauthorized } from '../schemas.ts'
import { operationContext } from './context.ts'
import { common, replayHeaders, tokenRequired, writer } from './memory.ts'

export const addLabelRoute = createRoute({
  method: 'post',
  path: '/v1/labels',
  tags: ['labels'],
  summary: 'Add a label the model does not have',
  description:
    'Adds a label that lives in the memory: the base model gives it probability 0, rows learned with it (POST /v1/memory) carry it to the texts near them ' +
    '(within the locality radius); texts far from them answer as before. At most MEMORY_MAX_LABELS (default 32).',
  security: requiredBearer,
  middleware: [tokenRequired, jsonBody({ maxBytes: (c) => (c.var as AppEnv['Variables']).settings.maxBodyBytes })],
  request: { body: { required: true, content: { 'application/json': { schema: AddLabelRequest } } } },
  responses: {
    201: { description: 'Added.', content: { 'application/json': { schema: AddLabelResponse } } },
    400: errorResponse('Invalid JSON, or a name that is not 1 to 64 letters, digits and `_ - . : /`.'),
    409: errorResponse('Already a model or memory label (`label_exists`), MEMORY_MAX_LABELS memory labels already (`labels_full`), or a newer deployment continues this memory (`sealed`).'),
    413: errorResponse('The body is over MAX_BODY_BYTES.'),
    415: errorResponse('The content type is not application/json.'),
    ...common,
  },
})

export const removeLabelRoute = createRoute({
  method: 'delete',
  path: '/v1/labels/{label}',
  tags: ['labels'],
  summary: 'Remove a memory label',
  description: 'Removes a label added to the memory and forgets every learned row of it (a forget entry each). Added again later, it starts empty.',
  security: requiredBearer,
  middleware: [tokenRequired],
  request: { params: LabelParam },
  responses: {
    200: { description: 'Removed.', content: { 'application/json': { schema: RemoveLabelResponse } } },
    404: errorResponse('Not a label of this memory.'),
    409: errorResponse('A label of the model (`model_label`): it cannot be removed.'),
    ...common,
  },
})

export const listLabelsRoute = createRoute({
  method: 'get',
  path: '/v1/labels',
  tags: ['labels'],
  summary: 'The served labels',
  description: "Every label classify may answer, with its source: the model's in its order, then the memory's in the order added.",
  security: optionalBearer,
  responses: {
    200: { description: 'The labels.', content: { 'application/json': { schema: LabelList } } },
    401: unauthorized,
    500: internalError,
    503: errorResponse('The model could not be loaded, or the edit log cannot be reached; see Retry-After.'),
  },
})

export function labelRoutes() {
  return new OpenAPIHono<AppEnv>()
    .openapi(addLabelRoute, async (c) => {
      const { label } = c.req.valid('json')
      const { body, headers } = replayHeaders(await addMemoryLabel(operationContext(c), label, writer(c)))
      return c.json({ label: body.label, source: 'memory' as const, labels: body.labels }, 201, headers)
    })
    .openapi(removeLabelRoute, async (c) => {
      const { label } = c.req.valid('param')
      const { body, headers } = replayHeaders(await removeMemoryLabel(operationContext(c), label, writer(c)))
      return c.json({ label: body.label, forgotten: body.forgotten ?? 0 }, 200, headers)
    })
    .openapi(listLabelsRoute, async (c) => c.json({ labels: await listLabels(operationContext(c)) }, 200))
}
