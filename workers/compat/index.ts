/**
 * Routes in the shapes of the APIs people already call for text classification, so their clients work
 * unchanged against this worker: Hugging Face (/v1/hf), Workers AI (/v1/workers-ai), OpenAI moderation
 * (/v1/openai). Each maps our answer to its shape and our errors to the error body its client reads.
 */
import { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../app-env.ts'
import type { ErrorFormat } from '../errors.ts'
import { hfErrorFormat, hfRoutes } from './hugging-face.ts'
import { openaiErrorFormat, openaiRoutes } from './openai.ts'
import { workersAiErrorFormat, workersAiRoutes } from './workers-ai.ts'

export { HF_PATH, hfLabels } from './hugging-face.ts'
export { OPENAI_PATH, moderationResult } from './openai.ts'
export { WORKERS_AI_PATH, checkWorkersAiModel, workersAiLabels } from './workers-ai.ts'

export const COMPAT_ERROR_FORMATS: readonly ErrorFormat[] = [hfErrorFormat, workersAiErrorFormat, openaiErrorFormat]

export function compatRoutes() {
  return new OpenAPIHono<AppEnv>().route('/', hfRoutes()).route('/', workersAiRoutes()).route('/', openaiRoutes())
}
