/**
 * Request and response schemas of the HTTP API. They validate requests and generate /openapi.json;
 * the response shapes are the core's (src/types.ts, src/memory/manifest.ts), described here, not redefined.
 */
import { z } from '@hono/zod-openapi'
import { Manifest } from '../src/memory/manifest.ts'

/** A text to classify: anything with at least one non-whitespace character (an empty text says nothing to classify). */
export const Text = z.string().regex(/\S/, 'must contain a non-whitespace character')

export const ClassifyRequest = z
  .strictObject({
    text: Text.optional().openapi({ description: 'One text (not empty or whitespace only). The response is a single Classification.', example: 'WIN a FREE cruise! Click now to claim your prize' }),
    texts: z
      .array(Text)
      .min(1)
      .optional()
      .openapi({ description: 'Several texts, at most MAX_BATCH (default 32). The response is `{"results": [...]}` in the same order.' }),
  })
  .superRefine((body, ctx) => {
    if ((body.text === undefined) === (body.texts === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of "text" or "texts"', path: [] })
  })
  .openapi('ClassifyRequest', { description: 'Exactly one of `text` or `texts`.', minProperties: 1, maxProperties: 1 })

// Strict: an unknown parameter is a 400, so a typo (`?K=0`, `?explian=1`) cannot silently change the answer.
export const ClassifyQuery = z.strictObject({
  explain: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .openapi({ param: { name: 'explain', in: 'query' }, description: 'Set to 1 to add the memorized neighbours that moved each decision.', example: '1' }),
  k: z
    .string()
    .regex(/^(0|[1-9]\d{0,2})$/, 'an integer from 0 to 256')
    .refine((v) => Number(v) <= 256, 'an integer from 0 to 256')
    .optional()
    .openapi({ param: { name: 'k', in: 'query' }, description: 'Override the served number of built neighbours; 0 answers with the base model alone (learned rows included; novelty is still reported). Without it, built rows count only when the build served the memory (GET /v1/model: resmem.k, memory.decision); learned rows (POST /v1/memory) count within `locality.radius` either way.', example: '0' }),
  alpha: z
    .string()
    .regex(/^0?\.\d*[1-9]\d*$/, 'a number in (0, 1), e.g. 0.05')
    .optional()
    .openapi({ param: { name: 'alpha', in: 'query' }, description: 'Miscoverage of `set` for this request (default: CONFORMAL_ALPHA, else the manifest\'s conformal.alpha, 0.1).', example: '0.05' }),
  abstain: z
    .enum(['0', '1', 'true', 'false'])
    .optional()
    .openapi({ param: { name: 'abstain', in: 'query' }, description: 'Set to 1 to get `label: null`, `score: null` and `abstained` when the text is unfamiliar or `set` does not hold exactly one label.', example: '1' }),
})

/** The options of RPC `classify` (workers/rpc.ts): ClassifyQuery's, typed as values rather than query strings. */
export const ClassifyOptions = z.strictObject({
  explain: z.boolean().optional(),
  k: z.number().int().min(0, 'an integer from 0 to 256').max(256, 'an integer from 0 to 256').optional(),
})

export const LabelScore = z.object({ label: z.string(), score: z.number() }).openapi('LabelScore')

export const Neighbor = z
  .object({
    source: z.enum(['built', 'edit']).openapi({ description: '"built": a training example of the build; "edit": an example learned since (POST /v1/memory).' }),
    row: z.number().int().optional().openapi({ description: 'Row of the memorized example in the training build (source "built"; its row in memory.bin unless edits were folded in); forget it as `base:{row}`.' }),
    id: z.string().optional().openapi({ description: 'Id of the learned example (source "edit", also once folded into a build); forget it with DELETE /v1/memory/{id}.' }),
    label: z.string().openapi({ description: 'Label of the memorized example.' }),
    similarity: z.number().openapi({ description: 'Cosine similarity of the quantized keys.' }),
    weight: z.number().openapi({ description: 'Normalised weight of its residual, exp(-dist/sigma) over the k neighbours.' }),
  })
  .openapi('Neighbor')

export const Classification = z
  .object({
    label: z.string().nullable().openapi({ description: 'The ResMem label: argmax of softmax(z/T) + sum_i w_i r_i; null only with ?abstain=1 when it applies.' }),
    score: z.number().nullable(),
    scores: z.array(LabelScore).openapi({ description: 'All labels, highest score first.' }),
    base: z.object({ label: z.string(), score: z.number(), scores: z.array(LabelScore) }).openapi({ description: 'What the base model alone says, softmax(z/T).' }),
    truncated: z.boolean().openapi({ description: "Whether the text was cut to the model's maximum number of tokens." }),
    neighbors: z.array(Neighbor).optional().openapi({ description: 'Only with ?explain=1.' }),
    novelty: z.number().optional().openapi({ description: "Cosine distance from the text's key to its nearest live memory row, built or learned (absent with NOVELTY=off)." }),
    unfamiliar: z.boolean().optional().openapi({ description: 'novelty beyond the threshold fitted on val (GET /v1/model: locality.novelty), under which 95% of val texts lie.' }),
    set: z.array(z.string()).optional().openapi({ description: 'Split conformal prediction set: holds the true label with probability >= 1 - alpha on data like val.' }),
    abstained: z.enum(['unfamiliar', 'ambiguous', 'empty']).optional().openapi({ description: 'Why label is null (only with ?abstain=1).' }),
  })
  .openapi('Classification')

export const ClassifyResults = z.object({ results: z.array(Classification) }).openapi('ClassifyResults')

export const ServedLabel = z
  .object({ label: z.string(), source: z.enum(['model', 'memory']).openapi({ description: '"model": a label of the base model; "memory": a label added to the memory (POST /v1/labels), taught by learned rows.' }) })
  .openapi('ServedLabel')

export const LabelList = z.object({ labels: z.array(ServedLabel).openapi({ description: "The model's labels in its order, then the memory's in the order added." }) }).openapi('LabelList')

export const AddLabelRequest = z
  .strictObject({
    label: z.string().openapi({ description: 'The new label: 1 to 64 letters, digits and `_ - . : /`, not a label already served.', example: 'billing' }),
  })
  .openapi('AddLabelRequest')

export const AddLabelResponse = z
  .object({ label: z.string(), source: z.literal('memory'), labels: z.array(ServedLabel) })
  .openapi('AddLabelResponse')

export const LabelParam = z.object({
  label: z.string().openapi({ param: { name: 'label', in: 'path' }, description: 'A memory label (GET /v1/labels lists them).', example: 'billing' }),
})

export const RemoveLabelResponse = z
  .object({ label: z.string(), forgotten: z.number().int().openapi({ description: 'Learned rows of the label forgotten with it.' }) })
  .openapi('RemoveLabelResponse')

export const ServedState = z
  .object({
    builtMemory: z.enum(['on', 'off']),
    k: z.number().int(),
    radius: z.number().nullable(),
    learnedRows: z.number().int(),
    novelty: z.boolean(),
    alpha: z.number().nullable(),
    labels: z.array(ServedLabel).openapi({ description: "Every served label and where it comes from: the model's (its order), then the memory's (in the order added)." }),
  })
  .openapi('Served', { description: 'What answers now: the built memory on or off (val decided), k, the locality radius, learned rows (live and folded, not forgotten), whether answers carry novelty, the miscoverage of the sets.' })

export const ModelInfo = Manifest.extend({ served: ServedState }).openapi('Manifest', { description: "The bundle's manifest.json: labels, served k, sigma and T, memory rows and quantization, whether the memory is on and why (memory.decision), the score temperatures fitted on val (calibration), file fingerprints, versions." })

export const Health = z
  .object({
    status: z.literal('ok'),
    model: z.string(),
    labels: z.array(z.string()),
    memoryRows: z.number().int(),
    runtime: z.object({ onnxruntime: z.string(), knn: z.string(), loadMs: z.number() }),
  })
  .openapi('Health')

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request' }),
      message: z.string().openapi({ example: 'texts.0: Invalid input: expected string, received number' }),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional().openapi({ description: 'Validation errors: each bad field with its path.' }),
    }),
  })
  .openapi('Error')

export const internalError = {
  description: 'A var is unusable (`misconfigured`, naming it) or an unexpected failure (`internal_error`, details only in the logs).',
  content: { 'application/json': { schema: ErrorResponse } },
}

/** A documented error response. */
export function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: ErrorResponse } } }
}

/** The optional bearer token on /v1/* (API_TOKEN): `{}` as the alternative, since a deployment may run without. */
export const optionalBearer: Record<string, string[]>[] = [{ bearer: [] }, {}]

export const unauthorized = errorResponse('API_TOKEN is set and the request has no valid bearer token (`code: unauthorized`, `WWW-Authenticate: Bearer`).')

/** A label as given: not empty (the model's labels are checked by the route, which names them). */
const Label = z.string().min(1, 'must not be empty')

export const LearnRequest = z
  .strictObject({
    examples: z
      .array(
        z.strictObject({
          text: Text.openapi({ description: 'The text to learn (not empty). Cut to the model\'s maximum tokens as classify cuts it; stored whole.', example: 'Hi Tom, can we move our meeting to Thursday?' }),
          label: Label.openapi({ description: 'A served label: one of the model\'s, or one added to the memory (GET /v1/labels lists them).', example: 'ham' }),
        }),
      )
      .min(1)
      .openapi({ description: 'Labelled examples, at most MAX_BATCH (default 32).' }),
  })
  .openapi('LearnRequest')

export const LearnResponse = z
  .object({
    ids: z.array(z.string()).openapi({ description: 'Ids of the learned examples, in input order: forget one with DELETE /v1/memory/{id}.', example: ['17'] }),
    version: z.number().int().openapi({ description: 'The edit log version after this write; this isolate already serves it.' }),
    truncated: z.array(z.boolean()).openapi({ description: "Whether each text was cut to the model's maximum number of tokens before it was embedded." }),
  })
  .openapi('LearnResponse')

export const ForgetResponse = z.object({ version: z.number().int().openapi({ description: 'The edit log version after this write.' }) }).openapi('ForgetResponse')

export const MemoryIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'An id from POST /v1/memory ("17"), or `base:{row}` for a built row (a training example; `row` as ?explain=1 reports it).', example: '17' }),
})

const Version = z.string().regex(/^(0|[1-9]\d{0,15})$/, 'a log version: an integer >= 0')

export const MemoryListQuery = z.strictObject({
  after: Version.optional().openapi({ param: { name: 'after', in: 'query' }, description: 'List entries after this version (default 0: from the start).', example: '0' }),
  limit: z
    .string()
    .regex(/^[1-9]\d{0,3}$/, 'an integer from 1 to 1000')
    .refine((v) => Number(v) <= 1000, 'an integer from 1 to 1000')
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' }, description: 'Most entries in the page (1 to 1000, default 100).', example: '100' }),
})

export const MemoryEntry = z
  .object({
    version: z.number().int().openapi({ description: 'Position in the log; an add\'s version is the id of its example.' }),
    op: z.enum(['add', 'forget', 'label']),
    id: z.string().optional().openapi({ description: 'add: the example\'s id.' }),
    target: z.string().optional().openapi({ description: 'forget: the id forgotten ("17" or "base:12"); label: "add" or "remove" (of the memory label `label`).' }),
    text: z.string().optional(),
    label: z.string().optional(),
    truncated: z.boolean().optional(),
    model: z.string().openapi({ description: 'SHA-256 of the model that embedded it.' }),
    token: z.string().openapi({ description: 'Fingerprint of the bearer token that wrote it (the first 16 hex digits of its SHA-256; never the token).' }),
    at: z.number().int().openapi({ description: 'When it was written, ms since 1970.' }),
    note: z.string().optional().openapi({ description: 'Why an entry carried over from a previous model is not served.' }),
  })
  .openapi('MemoryEntry')

export const MemoryPage = z
  .object({
    version: z.number().int().openapi({ description: 'The log\'s last version.' }),
    state: z.enum(['ready', 'importing']).openapi({ description: '"importing": the edits of the previous model are being re-embedded; they serve once done.' }),
    live: z.number().int().openapi({ description: 'Learned examples held (added, not forgotten).' }),
    hidden: z.number().int().openapi({ description: 'Built rows hidden (forgotten `base:{row}`); they count toward `maxEdits` with `live`.' }),
    maxEdits: z.number().int().openapi({ description: 'MAX_MEMORY_EDITS.' }),
    entries: z.array(MemoryEntry),
    next: z.number().int().nullable().openapi({ description: 'Pass as `after` for the next page; null at the end.' }),
  })
  .openapi('MemoryPage')

/** The edit log always needs the bearer token. */
export const requiredBearer: Record<string, string[]>[] = [{ bearer: [] }]

export const forbiddenWithoutToken = errorResponse('API_TOKEN is not set: the edit log holds user text, so it is never open; the message says how to set a token (`code: forbidden`).')
