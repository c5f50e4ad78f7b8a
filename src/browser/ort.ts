/**
 * onnxruntime-web in the browser: the WASM build, or the WebGPU build with JSPI (its .wasm, 16.8 MB, fits
 * Workers Static Assets; the Asyncify one, 26.8 MB, does not). Each is imported only when chosen, so a
 * page never downloads both. The .wasm comes from the page's own server (env.wasm.wasmPaths), never a
 * CDN; the JavaScript glue is embedded in the bundled ORT module, so no .mjs is fetched.
 */
import type { OrtRuntime } from '../model/runner.ts'
import type { Device } from './device.ts'

/** The onnxruntime-web .wasm each device needs, as the build copies them into `<runtime>/ort/`. */
export const ORT_WASM: Record<Device, string> = {
  wasm: 'ort-wasm-simd-threaded.wasm',
  webgpu: 'ort-wasm-simd-threaded.jspi.wasm',
}

export interface BrowserOrt {
  ort: OrtRuntime
  sessionOptions: object
  /** e.g. "onnxruntime-web 1.30.0 (wasm)". */
  description: string
  /** Drops ORT's reference to the .wasm bytes once a session exists (ORT compiles them only once). */
  started(): void
}

export interface LoadOrtOptions {
  /** Folder with the ORT .wasm files (`ort/` under the runtime URL). */
  ortUrl: string
  /**
   * Reads the .wasm (through the Cache API); ORT then compiles these bytes instead of fetching. Gets the
   * URL and the ORT version, for the cache key.
   */
  readWasm?: (url: string, version: string) => Promise<Uint8Array>
}

/**
 * @example
 * const { ort, sessionOptions } = await loadOrt('wasm', { ortUrl: new URL('./ort/', import.meta.url).href })
 * const classifier = await ResMemClassifier.create(bundle, { ort, sessionOptions })
 */
export async function loadOrt(device: Device, options: LoadOrtOptions): Promise<BrowserOrt> {
  const ort = device === 'webgpu' ? await import('onnxruntime-web/jspi') : await import('onnxruntime-web/wasm')
  const version = ort.env.versions.web ?? 'unknown'
  const wasmUrl = new URL(ORT_WASM[device], options.ortUrl).href
  ort.env.wasm.wasmPaths = { wasm: wasmUrl }
  // One thread: ORT's threads need a cross-origin-isolated page, and this already runs off the main thread.
  ort.env.wasm.numThreads = 1
  ort.env.wasm.proxy = false
  ort.env.logLevel = 'error'
  if (options.readWasm) ort.env.wasm.wasmBinary = await options.readWasm(wasmUrl, version)
  return {
    ort: ort as unknown as OrtRuntime,
    // logSeverityLevel 3: errors only (ORT warns, per session, that shape ops stay on the CPU).
    sessionOptions: { executionProviders: [device], graphOptimizationLevel: 'all', logSeverityLevel: 3 },
    description: `onnxruntime-web ${version} (${device === 'webgpu' ? 'webgpu, jspi' : 'wasm'})`,
    started() {
      ort.env.wasm.wasmBinary = undefined
    },
  }
}
