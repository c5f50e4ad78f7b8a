/**
 * A memory is a list of segments, each searched for its top-k and merged exactly, with forgotten rows
 * filtered: the built memory (or its parts), the overlay of rows learned at the edge, remote shards (remote.ts).
 * Lucene's segments-and-live-docs shape, applied to a ResMem memory.
 */
export type { Hit, HitSource, Query, RowFilter, Segment } from './types.ts'
export { mergeHits, ranksBefore, withoutForgotten } from './merge.ts'
export { builtSegment } from './built.ts'
export type { BuiltSegment, BuiltSegmentOptions } from './built.ts'
export { EditOverlay } from './overlay.ts'
export type { EditOverlayOptions, EditRow, IndexFactory } from './overlay.ts'
export { SegmentedMemory, queryOf } from './memory.ts'
export { int8Similarity } from './similarity.ts'
export { remoteSegment, SegmentUnavailableError } from './remote.ts'
export type { RemoteSegmentOptions } from './remote.ts'
