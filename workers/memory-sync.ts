/** Kept as the old import path: the served memory's edits live in workers/memory/ (one job per file). */
export * from './memory/index.ts'
