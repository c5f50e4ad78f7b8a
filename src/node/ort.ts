/**
 * onnxruntime-node, imported when the first Node session is made. It is a peer dependency of the package (its
 * native binaries are for Node only): browser and Worker users never install it, and a Node user who has not
 * gets an error naming it and the command that installs it, not a module-resolution stack.
 */
import type { OrtRuntime } from '../model/runner.ts'

export const NODE_ORT_PACKAGE = 'onnxruntime-node'

/** The install command; the env var skips its postinstall download of CUDA files (the CPU runtime ships in the package). */
export const NODE_ORT_INSTALL = `ONNXRUNTIME_NODE_INSTALL=skip npm install ${NODE_ORT_PACKAGE}`

/** A runtime package the caller needs is not installed where this package can import it. */
export class MissingRuntimeError extends Error {
  readonly code = 'ERR_RESMEM_MISSING_RUNTIME'
  readonly packageName: string
  readonly install: string
  constructor(packageName: string, install: string) {
    super(`${packageName} is not installed: ResMem Edge runs models in Node with it (a peer dependency). Install it: ${install}`)
    this.name = 'MissingRuntimeError'
    this.packageName = packageName
    this.install = install
  }
}

let loading: Promise<OrtRuntime> | undefined
let loaded: OrtRuntime | undefined

/**
 * @example
 * const runner = await ModelRunner.create(await loadNodeOrt(), modelBytes)
 */
export function loadNodeOrt(): Promise<OrtRuntime> {
  // A variable specifier: bundlers of browser and Worker code must not follow it.
  const specifier: string = NODE_ORT_PACKAGE
  loading ??= import(specifier).then(
    (ort: unknown) => (loaded = ort as OrtRuntime),
    (err: NodeJS.ErrnoException) => {
      loading = undefined
      if (err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(`'${NODE_ORT_PACKAGE}'`)) throw new MissingRuntimeError(NODE_ORT_PACKAGE, NODE_ORT_INSTALL)
      throw err
    },
  )
  return loading
}

function TensorOfLoadedOrt(this: unknown, type: 'int64', data: BigInt64Array, dims: readonly number[]) {
  if (!loaded) throw new Error(`${NODE_ORT_PACKAGE} is not loaded yet: create a session first (loadNodeOrt())`)
  return new loaded.Tensor(type, data, dims)
}

/**
 * The OrtRuntime backed by onnxruntime-node, usable before it is imported: creating a session imports it
 * (tensors are made after a session exists, so Tensor can be synchronous).
 */
export const nodeOrt: OrtRuntime = {
  InferenceSession: { create: async (model, options) => (await loadNodeOrt()).InferenceSession.create(model, options) },
  Tensor: TensorOfLoadedOrt as unknown as OrtRuntime['Tensor'],
}
