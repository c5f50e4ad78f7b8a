/** GET /v1/model: the served bundle's manifest. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import { modelInfo } from '../operations/index.ts'
import { operationContext } from './context.ts'
import { ModelInfo, errorResponse, internalError, optionalBearer, unauthorized } from '../schemas.ts'

export const modelRoute = createRoute({
  method: 'get',
  path: '/v1/model',
  tags: ['model'],
  summary: 'The served model',
  description: "The bundle's manifest.json: labels, served k, sigma and T, memory rows and quantization, whether the memory is on and why (memory.decision; off: k = 0, the base model answers), the locality radius and novelty threshold, the conformal scores, and `served`: what answers now (built memory on or off, k, radius, learned rows, novelty on, alpha), the score temperatures fitted on val (calibration), SHA-256 fingerprints of the model and the memory, and the versions that built them.",
  security: optionalBearer,
  responses: {
    200: { description: 'The manifest.', content: { 'application/json': { schema: ModelInfo } } },
    401: unauthorized,
    503: errorResponse('The model could not be loaded; see Retry-After.'),
    500: internalError,
  },
})

export function modelRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(modelRoute, async (c) => {
    return c.json(await modelInfo(operationContext(c)), 200)
  })
}
