/**
 * The two Node classifiers compared, behind one signature `(text, k?) => result`: our library
 * (loadClassifier: onnxruntime-node + the SIMD k-NN) and a transformers.js text-classification pipeline on
 * the same bundle folder (it reads the Hugging Face layout: config.json, tokenizer*.json, onnx/model.onnx).
 */
import { basename, dirname, resolve } from 'node:path'
import { readFile } from 'node:fs/promises'
import { parseManifest } from '../../src/memory/manifest.ts'
import { loadClassifier } from '../../src/node/index.ts'
import { QUANTIZED_MODEL_FILE } from '../build/precision.ts'

export type NodeImpl = 'resmem' | 'transformers'
export type ClassifyOne = (text: string, k?: number) => Promise<unknown>

/**
 * onnxruntime-node session options for both: `1` = one intra-op and one inter-op thread (as the worker's
 * single wasm thread), `default` = ORT's own choice (intra-op threads = cores, spinning).
 */
export type OrtThreads = '1' | 'default'
export const sessionOptions = (threads: OrtThreads) => (threads === '1' ? { intraOpNumThreads: 1, interOpNumThreads: 1 } : undefined)

export async function loadNodeClassifier(bundle: string, threads: OrtThreads = 'default'): Promise<ClassifyOne> {
  const classifier = await loadClassifier(bundle, { sessionOptions: sessionOptions(threads) })
  return async (text, k) => (await classifier.classify([text], k === undefined ? {} : { params: { k } }))[0]
}

export async function loadPipeline(bundle: string, threads: OrtThreads = 'default'): Promise<ClassifyOne> {
  // Lazy: transformers.js is a devDependency, and loads onnxruntime-node and its own tokenizers on import.
  const { env, pipeline } = await import('@huggingface/transformers')
  env.allowRemoteModels = false
  env.localModelPath = dirname(resolve(bundle)) + '/'
  const options = sessionOptions(threads)
  // An int8 bundle holds onnx/model_quantized.onnx, which transformers.js loads as dtype q8.
  const manifest = parseManifest(await readFile(resolve(bundle, 'manifest.json')))
  const dtype = manifest.model.file === QUANTIZED_MODEL_FILE ? ('q8' as const) : ('fp32' as const)
  const classify = await pipeline('text-classification', basename(resolve(bundle)), { dtype, ...(options ? { session_options: options } : {}) })
  return async (text) => (await classify(text))[0]
}
