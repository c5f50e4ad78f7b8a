/**
 * The Hugging Face Inference API's text-classification shape at POST /v1/hf: what `@huggingface/inference`'s
 * `textClassification({ endpointUrl, inputs, parameters: { top_k } })` posts, answered as its servers answer
 * (one `[{label, score}]` list per input, highest first, in a list), errors as `{"error": "..."}` so the client's
 * InferenceClientProviderApiError carries our message.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import type { ErrorFormat } from '../errors.ts'
import { jsonBody } from '../middleware/json-body.ts'
import { classifyTexts } from '../operations/index.ts'
import { operationContext } from '../routes/context.ts'
import { errorResponse, internalError, LabelScore, optionalBearer, Text, unauthorized } from '../schemas.ts'
import type { Classification } from '../../src/types.ts'

export const HF_PATH = '/v1/hf'

export const HfRequest = z
  .strictObject({
    inputs: z.union([Text, z.array(Text).min(1)]).openapi({ description: 'One text, or several (at most MAX_BATCH).' }),
    parameters: z
      .strictObject({
        top_k: z.number().int().min(1).optional().openapi({ description: 'Keep the k highest labels; default: all.' }),
        // Our scores are ResMem probabilities: a softmax-like distribution. Another squashing cannot be applied to them.
        function_to_apply: z.literal('softmax', { error: 'only "softmax": the scores are ResMem probabilities' }).optional(),
      })
      .optional(),
    options: z.record(z.string(), z.unknown()).optional().openapi({ description: "The Inference API's request options (wait_for_model, use_cache); accepted and ignored." }),
  })
  .openapi('HfTextClassificationRequest')

export const HfResponse = z.array(z.array(LabelScore)).openapi('HfTextClassificationResponse', { description: 'One list per input, highest score first.' })

/** One input's labels as the Inference API lists them: highest first, the first `topK`. */
export function hfLabels(result: Classification, topK?: number): { label: string; score: number }[] {
  return result.scores.slice(0, topK ?? result.scores.length).map(({ label, score }) => ({ label, score }))
}

export const hfErrorFormat: ErrorFormat = {
  prefix: HF_PATH,
  // The client shows `error` when it is a string; error_type mirrors the Inference API's field.
  body: ({ body }) => ({ error: body.error.message, error_type: body.error.code, ...(body.error.details ? { details: body.error.details } : {}) }),
}

const hfRoute = createRoute({
  method: 'post',
  path: HF_PATH,
  tags: ['compatible'],
  summary: 'Hugging Face text-classification',
  description: "`@huggingface/inference`'s `textClassification` with `endpointUrl` set to this URL. Errors are `{\"error\": message, \"error_type\": code}`.",
  security: optionalBearer,
  middleware: [jsonBody({ maxBytes: (c) => (c.var as AppEnv['Variables']).settings.maxBodyBytes })],
  request: { body: { required: true, content: { 'application/json': { schema: HfRequest } } } },
  responses: {
    200: { description: 'One list per input.', content: { 'application/json': { schema: HfResponse } } },
    400: errorResponse('A field that fails validation, or more than MAX_BATCH inputs.'),
    401: unauthorized,
    503: errorResponse('The model could not be loaded. The client retries a 503 at once unless `retry_on_error: false`.'),
    500: internalError,
  },
})

export function hfRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(hfRoute, async (c) => {
    const { inputs, parameters } = c.req.valid('json')
    const results = await classifyTexts(operationContext(c), { texts: typeof inputs === 'string' ? [inputs] : inputs, field: 'inputs' })
    return c.json(results.map((r) => hfLabels(r, parameters?.top_k)), 200)
  })
}
