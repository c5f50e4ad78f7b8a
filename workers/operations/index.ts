/**
 * The worker's operations, one path each whatever the door: the HTTP routes, the compatible routes and the RPC
 * entrypoint call these with an OperationContext, so validation, limits, auth decisions and errors are shared.
 */
export type { OperationContext } from './context.ts'
export { classifyFresh, classifyTexts, type ClassifyCall, type Classified } from './classify.ts'
export { FORBIDDEN_MESSAGE, forgetRow, learnExamples, requireMemoryAccess, servedMemory } from './memory.ts'
export { addMemoryLabel, listLabels, removeMemoryLabel } from './labels.ts'
export { modelInfo, type ModelInfo } from './model.ts'
export { validate } from './validate.ts'
