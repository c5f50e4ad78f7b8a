/**
 * The base model's precision: float32 as exported, or int8 (scripts/export/quantize.ts), written as
 * `onnx/model_quantized.onnx`, the name transformers.js loads for dtype q8. The memory is then built from
 * the int8 model's own embeddings and residuals, so it corrects the model that is served.
 *
 * `auto` (the build's default) takes int8 when the int8 model's validation accuracy is at most 0.2 points
 * below float32's, both scored alone (argmax of the logits) on the validation split.
 */
import { sha256Hex } from '../../src/memory/checksum.ts'
import { ModelRunner } from '../../src/model/runner.ts'
import { nodeOrt } from '../../src/node/index.ts'
import type { ModelPrecision } from '../../src/memory/manifest.ts'
import { CliError } from '../cli/errors.ts'
import { quantizeModel } from '../export/quantize.ts'
import { MODEL_FILE } from './model-folder.ts'
import type { PreparedModel } from './pipeline.ts'

export type PrecisionChoice = ModelPrecision | 'auto'
export const PRECISION_CHOICES: readonly PrecisionChoice[] = ['auto', 'fp32', 'int8']
export const QUANTIZED_MODEL_FILE = 'onnx/model_quantized.onnx'
/** The most validation accuracy `auto` gives up for an int8 model (0.2 points). */
export const MAX_INT8_VAL_DROP = 0.002

export const modelFileFor = (precision: ModelPrecision) => (precision === 'int8' ? QUANTIZED_MODEL_FILE : MODEL_FILE)

/** The ResMem-ready float32 model, quantized to int8 and run with the same session options. */
export async function quantizePrepared(fp32: PreparedModel): Promise<PreparedModel> {
  let bytes: Uint8Array
  try {
    bytes = quantizeModel(fp32.model).bytes
  } catch (err) {
    throw new CliError(`${fp32.folder.location}/${MODEL_FILE}: cannot quantize to int8: ${(err as Error).message}`)
  }
  const runner = await ModelRunner.create(nodeOrt, bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 })
  return { ...fp32, model: bytes, fingerprint: await sha256Hex(bytes), runner, file: QUANTIZED_MODEL_FILE }
}

/** What the build chose, for manifest.json `precision`. */
export interface PrecisionRecord {
  model: ModelPrecision
  choice: PrecisionChoice
  /** Validation accuracy of each model alone, when `auto` compared them. */
  valAccuracy?: { fp32: number; int8: number }
  maxDrop?: number
}

/**
 * Picks the model to serve. `scoreVal` embeds the validation split with a prepared model (the pipeline's
 * embedFile), so the comparison runs the same tokenizer and batches as the build.
 */
export async function choosePrecision(
  fp32: PreparedModel,
  choice: PrecisionChoice,
  scoreVal: (prepared: PreparedModel) => Promise<number>,
): Promise<{ prepared: PreparedModel; precision: PrecisionRecord }> {
  if (choice === 'fp32') return { prepared: fp32, precision: { model: 'fp32', choice } }
  const int8 = await quantizePrepared(fp32)
  if (choice === 'int8') return { prepared: int8, precision: { model: 'int8', choice } }
  const valAccuracy = { fp32: await scoreVal(fp32), int8: await scoreVal(int8) }
  // A hair of tolerance: 0.2 points of 500 examples is exactly one example, and floats must not flip it.
  const model: ModelPrecision = valAccuracy.fp32 - valAccuracy.int8 <= MAX_INT8_VAL_DROP + 1e-9 ? 'int8' : 'fp32'
  return { prepared: model === 'int8' ? int8 : fp32, precision: { model, choice, valAccuracy, maxDrop: MAX_INT8_VAL_DROP } }
}
