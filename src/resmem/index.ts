export { softmax, residual, unitDistance, neighborWeights, combine, argmax } from './combine.ts'
export { MemorySearch } from './search.ts'
export { l2Normalize } from './vector.ts'
export type { ResMemParams, ResMemDecision } from './search.ts'
