/**
 * ResMem Edge, the runtime-free core: load a bundle from any FileSource, classify with the onnxruntime you
 * pass in, search the memory with the k-NN index you choose. No runtime is imported here; the edges are
 * `resmem-edge` under the `node`, `browser` and `workerd` export conditions.
 *
 * @example
 * import * as ort from 'onnxruntime-web'
 * import { fetchSource, loadBundle, ResMemClassifier } from 'resmem-edge/core'
 * const bundle = await loadBundle(fetchSource('https://example.com/models/spam/'))
 * const classifier = await ResMemClassifier.create(bundle, { ort })
 * const [result] = await classifier.classify(['WIN a FREE cruise, click now'], { explain: true })
 */
export type { Answer, Classification, LabelScore, Neighbor, BasePrediction, Example } from './types.ts'

export { ResMemClassifier, labelScores } from './classifier.ts'
export type { ClassifierOptions, ClassifyOptions } from './classifier.ts'

export { CodedError } from './errors.ts'
export { loadBundle, BUNDLE_FILES } from './bundle/load.ts'
export type { Bundle } from './bundle/load.ts'
export { fetchSource, hubSource, ArtifactError } from './bundle/source.ts'
export type { FileSource, FetchSourceOptions, HubOptions, ArtifactErrorCode } from './bundle/source.ts'

export { ModelRunner, ModelError, EMBEDDING_OUTPUT } from './model/runner.ts'
export type { OrtRuntime, OrtSession, OrtTensor, ModelOutputs } from './model/runner.ts'

export { createReferenceIndex, createWasmIndex, simdSupported, MAX_DIM } from './knn/index.ts'
export type { KnnIndex, TopK } from './knn/index.ts'

export { MemorySearch } from './resmem/index.ts'
export { SegmentedMemory, builtSegment, EditOverlay, mergeHits, withoutForgotten, queryOf } from './memory/segments/index.ts'
export type { Hit, HitSource, Query, Segment, RowFilter, EditRow, BuiltSegment } from './memory/segments/index.ts'
export { encodeRow } from './memory/row.ts'
export type { EncodedRow } from './memory/row.ts'
export { MemoryEditError, parseRowId, formatRowId } from './memory/edits.ts'
export { LabelSet, LabelError, labelNameProblem, DEFAULT_MAX_MEMORY_LABELS } from './memory/labels.ts'
export type { ServedLabel, LabelErrorCode } from './memory/labels.ts'
export type { MemoryRowId } from './memory/edits.ts'
export type { ResMemParams, ResMemDecision } from './resmem/index.ts'
export { readMemory, MemoryFormatError } from './memory/format.ts'
export type { ResidualMemory } from './memory/format.ts'
export { parseManifest, ManifestError } from './memory/manifest.ts'
export type { Manifest } from './memory/manifest.ts'
