/** Preparing an ONNX classifier export for ResMem: add the embedding output, read the model's signature. */
export { addEmbeddingOutput } from './graph.ts'
export type { EmbeddingInfo, EmbeddingOutputOptions, EmbeddingOutputResult } from './graph.ts'
export { inspectModel } from './inspect.ts'
export type { ModelInfo, TensorSignature } from './inspect.ts'
export type { ClassifierLayer } from './classifier.ts'
export { findClassifier } from './classifier.ts'
export {
  ClassifierNotFoundError,
  ClassifierShapeError,
  EmbeddingNameClashError,
  ExportGraphError,
  ExternalDataError,
  InvalidModelError,
  MissingLogitsError,
  WeightNotInitializerError,
} from './errors.ts'
export type { ExportErrorCode } from './errors.ts'
