/** Preparing an ONNX classifier export for ResMem: add the key (embedding) output, read the model's signature. */
export { addEmbeddingOutput } from './graph.ts'
export type { EmbeddingInfo, EmbeddingOutputOptions, EmbeddingOutputResult } from './graph.ts'
export { addKeyOutput } from './key.ts'
export type { KeyOutputOptions, KeyOutputResult } from './key.ts'
export { KEY_PRESETS, keyParts, parseKeySpec } from './key-spec.ts'
export type { KeyPart, KeyPreset, KeySpec, Pooling, TensorKey } from './key-spec.ts'
export { inspectModel } from './inspect.ts'
export type { ModelInfo, TensorSignature } from './inspect.ts'
export type { ClassifierLayer } from './classifier.ts'
export { findClassifier } from './classifier.ts'
export {
  ClassifierNotFoundError,
  ClassifierShapeError,
  EmbeddingExistsError,
  EmbeddingNameClashError,
  ExportGraphError,
  ExternalDataError,
  InvalidKeySpecError,
  InvalidModelError,
  KeyPresetError,
  KeyShapeError,
  KeyTensorNotFoundError,
  MissingInputError,
  MissingLogitsError,
  WeightNotInitializerError,
} from './errors.ts'
export type { ExportErrorCode } from './errors.ts'
