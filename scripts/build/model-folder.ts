import type { FileSource } from '../../src/bundle/source.ts'
import { parseModelConfig, type ModelConfig } from '../../src/model/config.ts'
import { CliError } from '../cli/errors.ts'

/** A Hugging Face classifier folder, as transformers.js loads it (config, tokenizer, onnx/model.onnx). */
export interface ModelFolder {
  location: string
  config: ModelConfig
  /** Raw files to copy into the build output unchanged. */
  files: Record<'config.json' | 'tokenizer.json' | 'tokenizer_config.json', Uint8Array>
  tokenizerJson: object
  tokenizerConfig: object
  model: Uint8Array
}

export const MODEL_FILE = 'onnx/model.onnx'

function parseJson(location: string, path: string, bytes: Uint8Array): object {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object')
    return v
  } catch (err) {
    throw new CliError(`${location}/${path}: not valid JSON (${(err as Error).message})`)
  }
}

export async function readModelFolder(location: string, source: FileSource): Promise<ModelFolder> {
  const read = async (path: string) => {
    try {
      return await source(path)
    } catch (err) {
      throw new CliError(`${location}: ${(err as Error).message} (a model folder holds config.json, tokenizer.json, tokenizer_config.json and ${MODEL_FILE})`)
    }
  }
  const [configBytes, tokenizerBytes, tokenizerConfigBytes, model] = await Promise.all(
    ['config.json', 'tokenizer.json', 'tokenizer_config.json', MODEL_FILE].map(read),
  )
  const tokenizerConfig = parseJson(location, 'tokenizer_config.json', tokenizerConfigBytes)
  let config: ModelConfig
  try {
    config = parseModelConfig(parseJson(location, 'config.json', configBytes), tokenizerConfig)
  } catch (err) {
    throw new CliError(`${location}/${(err as Error).message}`)
  }
  return {
    location,
    config,
    files: { 'config.json': configBytes, 'tokenizer.json': tokenizerBytes, 'tokenizer_config.json': tokenizerConfigBytes },
    tokenizerJson: parseJson(location, 'tokenizer.json', tokenizerBytes),
    tokenizerConfig,
    model,
  }
}
