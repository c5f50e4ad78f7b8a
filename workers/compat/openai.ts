/**
 * OpenAI's moderation shape at POST /v1/openai/moderations: what the `openai` SDK's `moderations.create({input})`
 * posts with `baseURL` set to this worker's /v1/openai. Each label of the model is a category, its ResMem score
 * the category score; a category is flagged when it is the answer's label and MODERATION_LABELS lists it (e.g.
 * "spam"). Unset, the route answers 501: no label set, nothing could ever be flagged.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import { ConfigError } from '../env.ts'
import { ApiError, type ErrorFormat } from '../errors.ts'
import { jsonBody } from '../middleware/json-body.ts'
import { classifyTexts } from '../operations/index.ts'
import { operationContext } from '../routes/context.ts'
import { errorResponse, internalError, optionalBearer, Text, unauthorized } from '../schemas.ts'
import type { Classification } from '../../src/types.ts'

export const OPENAI_PATH = '/v1/openai'

export const ModerationRequest = z
  .strictObject({
    input: z.union([Text, z.array(Text).min(1)]).openapi({ description: 'One text or several (at most MAX_BATCH); text only, no images.' }),
    model: z.string().optional().openapi({ description: 'Accepted and ignored: the served bundle answers.' }),
  })
  .openapi('ModerationRequest')

export interface ModerationResult {
  flagged: boolean
  categories: Record<string, boolean>
  category_scores: Record<string, number>
}

/** One answer as a moderation result: every label a category, flagged where it is the answer and in `flagged`. */
export function moderationResult(result: Classification, flagged: readonly string[]): ModerationResult {
  const categories: Record<string, boolean> = {}
  const scores: Record<string, number> = {}
  for (const { label, score } of result.scores) {
    categories[label] = label === result.label && flagged.includes(label)
    scores[label] = score
  }
  return { flagged: Object.values(categories).some(Boolean), categories, category_scores: scores }
}

export const openaiErrorFormat: ErrorFormat = {
  prefix: OPENAI_PATH,
  // OpenAI's error object: the SDK's APIError reads message, type, code and param.
  body: ({ body }) => ({ error: { message: body.error.message, type: body.error.code, code: body.error.code, param: body.error.details?.[0]?.path ?? null } }),
}

const moderationRoute = createRoute({
  method: 'post',
  path: `${OPENAI_PATH}/moderations`,
  tags: ['compatible'],
  summary: 'OpenAI moderation',
  description: "The `openai` SDK's `moderations.create({input})` with `baseURL` set to this worker's /v1/openai. Labels listed in MODERATION_LABELS count as flagged when they are the answer.",
  security: optionalBearer,
  middleware: [jsonBody({ maxBytes: (c) => (c.var as AppEnv['Variables']).settings.maxBodyBytes })],
  request: { body: { required: true, content: { 'application/json': { schema: ModerationRequest } } } },
  responses: {
    200: {
      description: 'One result per input.',
      content: {
        'application/json': {
          schema: z.object({ id: z.string(), model: z.string(), results: z.array(z.object({ flagged: z.boolean(), categories: z.record(z.string(), z.boolean()), category_scores: z.record(z.string(), z.number()) })) }),
        },
      },
    },
    400: errorResponse('A field that fails validation, or more than MAX_BATCH inputs.'),
    401: unauthorized,
    501: errorResponse('MODERATION_LABELS is not set (`not_configured`).'),
    503: errorResponse('The model could not be loaded.'),
    500: errorResponse(`${internalError.description} MODERATION_LABELS names a label the model does not have (\`misconfigured\`).`),
  },
})

export function openaiRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(moderationRoute, async (c) => {
    const flagged = c.var.settings.moderationLabels
    if (!flagged) throw new ApiError(501, 'not_configured', 'set MODERATION_LABELS to the labels that count as flagged (comma-separated, e.g. "spam")')
    const { input } = c.req.valid('json')
    const ctx = operationContext(c)
    const { labels } = (await ctx.model()).manifest
    const unknown = flagged.filter((l) => !labels.includes(l))
    // Fail closed: a misspelt label would silently never flag.
    if (unknown.length) throw new ConfigError(`MODERATION_LABELS names ${unknown.map((l) => `"${l}"`).join(', ')}, not a label of the model (${labels.join(', ')})`)
    const results = await classifyTexts(ctx, { texts: typeof input === 'string' ? [input] : input, field: 'input' })
    return c.json({ id: `modr-${crypto.randomUUID()}`, model: c.var.settings.model, results: results.map((r) => moderationResult(r, flagged)) }, 200)
  })
}
