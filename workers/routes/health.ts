/** GET /healthz: 200 once the classifier is loaded (loading it if needed), 503 with the reason otherwise. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import { Health, errorResponse, internalError } from '../schemas.ts'

export const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Readiness',
  responses: {
    200: { description: 'The classifier is loaded.', content: { 'application/json': { schema: Health } } },
    503: errorResponse('The classifier could not be loaded; the message says why, Retry-After when it is tried again.'),
    500: internalError,
  },
})

export function healthRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(healthRoute, async (c) => {
    const model = await c.var.model()
    const { manifest, runtime } = model
    return c.json({ status: 'ok' as const, model: manifest.name, labels: manifest.labels, memoryRows: manifest.memory.rows, runtime }, 200)
  })
}
