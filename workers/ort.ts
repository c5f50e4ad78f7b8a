/**
 * onnxruntime-web inside workerd.
 *
 * Workers forbid compiling wasm from bytes at run time ("Wasm code generation disallowed by embedder"), so
 * the ORT .wasm must arrive as a module that wrangler compiled at upload: a static import. ORT has no
 * public hook to hand it a compiled module, so:
 *  - `numThreads = 1` and `proxy = false`: workerd has no threads and no Web Workers;
 *  - a truthy placeholder `wasmBinary`, so ORT neither fetches the .wasm nor streams it;
 *  - during the FIRST `InferenceSession.create` (the one that starts the runtime), `WebAssembly.instantiate`
 *    is redirected from those placeholder bytes to the imported module, then restored.
 *
 * The .wasm is imported from the onnxruntime-web package (it exports the file), so the wrangler of a project
 * that installs resmem-edge bundles it from that project's node_modules; no copy ships with resmem-edge.
 */
import * as ort from 'onnxruntime-web/wasm'
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm'
import type { OrtRuntime, OrtSession } from '../src/model/runner.ts'

ort.env.wasm.numThreads = 1
ort.env.wasm.proxy = false
ort.env.wasm.wasmBinary = new Uint8Array(0)
ort.env.logLevel = 'error'

export const ORT_VERSION = ort.env.versions.web ?? 'unknown'

const SESSION_DEFAULTS = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }

type Instantiate = typeof WebAssembly.instantiate

/** Runs `start` with WebAssembly.instantiate(bytes, imports) answering from the imported ORT module. */
async function withImportedModule<T>(start: () => Promise<T>): Promise<T> {
  const original: Instantiate = WebAssembly.instantiate
  const redirected = async (source: unknown, imports?: WebAssembly.Imports) => {
    if (source instanceof WebAssembly.Module) return original(source, imports)
    const instance = await original(ortWasm, imports)
    return { instance, module: ortWasm }
  }
  WebAssembly.instantiate = redirected as Instantiate
  try {
    return await start()
  } finally {
    WebAssembly.instantiate = original
  }
}

let started: Promise<unknown> | undefined

async function createSession(model: Uint8Array, options?: object): Promise<OrtSession> {
  const sessionOptions = { ...SESSION_DEFAULTS, ...options } as ort.InferenceSession.SessionOptions
  if (!started) {
    const first = withImportedModule(() => ort.InferenceSession.create(model, sessionOptions))
    // ORT keeps the outcome of starting its runtime; later sessions only wait for it to settle.
    started = first.catch(() => undefined)
    return (await first) as unknown as OrtSession
  }
  await started
  return (await ort.InferenceSession.create(model, sessionOptions)) as unknown as OrtSession
}

/** The OrtRuntime the core expects, backed by onnxruntime-web's single-threaded wasm build. */
export const workerdOrt: OrtRuntime = {
  InferenceSession: { create: createSession },
  Tensor: ort.Tensor as unknown as OrtRuntime['Tensor'],
}
