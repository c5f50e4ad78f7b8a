/**
 * Workers AI's text-classification shape: the REST API path that the `cloudflare` SDK's `client.ai.run(model,
 * {account_id, text})` posts to (`{baseURL}/accounts/{account_id}/ai/run/{model}`, baseURL = this worker's
 * /v1/workers-ai), answered in the API's envelope `{result, success, errors, messages}`; `result` is
 * `[{label, score}]`, highest first, as `env.AI.run` returns it (the RPC `run` method answers the same list).
 * `model` must name the served bundle (MODEL); the account id is not checked.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import type { Settings } from '../env.ts'
import { ApiError, type ErrorFormat } from '../errors.ts'
import { jsonBody } from '../middleware/json-body.ts'
import { classifyTexts } from '../operations/index.ts'
import { operationContext } from '../routes/context.ts'
import { errorResponse, internalError, LabelScore, optionalBearer, Text, unauthorized } from '../schemas.ts'
import type { Classification } from '../../src/types.ts'

export const WORKERS_AI_PATH = '/v1/workers-ai'

export const WorkersAiInput = z
  .strictObject({ text: Text.openapi({ description: 'The text to classify.' }) })
  .openapi('WorkersAiTextClassificationInput')

export interface WorkersAiLabelScore {
  label: string
  score: number
}

/** 404 unless `model` names the served bundle, so a call meant for another model never gets this one's labels. */
export function checkWorkersAiModel(settings: Settings, model: string): void {
  if (model !== settings.model) throw new ApiError(404, 'model_not_found', `model "${model}" is not served here: this worker serves "${settings.model}"`)
}

export function workersAiLabels(result: Classification): WorkersAiLabelScore[] {
  return result.scores.map(({ label, score }) => ({ label, score }))
}

export const workersAiErrorFormat: ErrorFormat = {
  prefix: WORKERS_AI_PATH,
  // The Cloudflare API's error envelope; our code leads the message (its `code` field is a number there).
  body: ({ status, body }) => ({ result: null, success: false, errors: [{ code: status, message: `${body.error.code}: ${body.error.message}` }], messages: [] }),
}

const runRoute = createRoute({
  method: 'post',
  path: `${WORKERS_AI_PATH}/accounts/{account_id}/ai/run/{model}`,
  tags: ['compatible'],
  summary: 'Workers AI text classification',
  description: "The `cloudflare` SDK's `ai.run(model, {account_id, text})` with `baseURL` set to this worker's /v1/workers-ai. `model` is the served bundle's name (MODEL).",
  security: optionalBearer,
  middleware: [jsonBody({ maxBytes: (c) => (c.var as AppEnv['Variables']).settings.maxBodyBytes })],
  request: {
    params: z.object({ account_id: z.string(), model: z.string() }),
    body: { required: true, content: { 'application/json': { schema: WorkersAiInput } } },
  },
  responses: {
    200: {
      description: 'The envelope with the labels, highest first.',
      content: { 'application/json': { schema: z.object({ result: z.array(LabelScore), success: z.literal(true), errors: z.array(z.unknown()), messages: z.array(z.unknown()) }) } },
    },
    400: errorResponse('A field that fails validation.'),
    401: unauthorized,
    404: errorResponse('`model` is not the served bundle.'),
    503: errorResponse('The model could not be loaded.'),
    500: internalError,
  },
})

export function workersAiRoutes() {
  // {model} may hold slashes ("@cf/..."), sent encoded; Hono decodes the parameter.
  return new OpenAPIHono<AppEnv>().openapi(runRoute, async (c) => {
    const { model } = c.req.valid('param')
    checkWorkersAiModel(c.var.settings, model)
    const { text } = c.req.valid('json')
    const [result] = await classifyTexts(operationContext(c), { texts: [text], field: 'text' })
    return c.json({ result: workersAiLabels(result), success: true as const, errors: [], messages: [] }, 200)
  })
}
