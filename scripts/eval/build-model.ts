/**
 * The model a finished build serves, ready to embed the eval's splits (`resmem eval --model --memory --test`):
 * from the bundle itself (its ResMem-ready graph, as served), or from the model folder it was built from, made
 * ResMem-ready with the build's key and quantized when the build chose int8 (manifest.json `precision`), then
 * checked against the memory's model fingerprint.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadBundle, type Bundle } from '../../src/bundle/load.ts'
import { ModelRunner } from '../../src/model/runner.ts'
import { nodeOrt } from '../../src/node/index.ts'
import { dirSource } from '../../src/node/source.ts'
import { TextTokenizer } from '../../src/tokenize/index.ts'
import { CliError } from '../cli/errors.ts'
import { parseKeySpec } from '../export/index.ts'
import { MODEL_FILE, readModelFolder } from '../build/model-folder.ts'
import { prepareModel, type PreparedModel } from '../build/pipeline.ts'
import { quantizePrepared } from '../build/precision.ts'

/** A bundle folder (`resmem build --out`) rather than a model folder: it has a manifest.json. */
export const isBundleFolder = (dir: string): boolean => existsSync(join(dir, 'manifest.json'))

/** The bundle's own graph, run as the build ran it (the graph already has its `embedding` output). */
async function fromBundle(dir: string, bundle: Bundle): Promise<PreparedModel> {
  const { manifest } = bundle
  const source = dirSource(dir)
  // A bundle holds its model under manifest.model.file (onnx/model_quantized.onnx for int8), not onnx/model.onnx.
  const folder = await readModelFolder(dir, (path) => source(path === MODEL_FILE ? manifest.model.file : path))
  const { output: name, source: keySource, dim } = manifest.model.embedding
  return {
    folder,
    model: bundle.model,
    fingerprint: manifest.model.sha256,
    embedding: { name, source: keySource, dim },
    key: manifest.resmem.key,
    tokenizer: new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig, folder.config.maxLength),
    runner: await ModelRunner.create(nodeOrt, bundle.model, { intraOpNumThreads: 2, interOpNumThreads: 1 }),
    file: manifest.model.file,
  }
}

/** The served model of `bundle` (loaded from `memoryDir`), from `modelDir`: the bundle itself or its source model. */
export async function servedModel(modelDir: string, memoryDir: string, bundle: Bundle): Promise<PreparedModel> {
  const { manifest, memory } = bundle
  let prepared: PreparedModel
  if (isBundleFolder(modelDir)) prepared = await fromBundle(modelDir, resolve(modelDir) === resolve(memoryDir) ? bundle : await loadBundle(dirSource(modelDir)))
  else {
    // Make the model ResMem-ready with the key the memory was built with, at the precision the build chose.
    const fp32 = await prepareModel(modelDir, undefined, parseKeySpec(manifest.resmem.key))
    prepared = manifest.precision?.model === 'int8' ? await quantizePrepared(fp32) : fp32
  }
  if (memory.modelFingerprint !== prepared.fingerprint) {
    const precision = manifest.precision ? ` (the build's model is ${manifest.precision.model}, ${manifest.model.file})` : ''
    throw new CliError(`${memoryDir}/memory.bin: built for model ${memory.modelFingerprint.slice(0, 12)}…, but ${modelDir} gives ${prepared.fingerprint.slice(0, 12)}…${precision}`)
  }
  return prepared
}
