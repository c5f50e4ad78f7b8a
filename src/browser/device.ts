/**
 * Which onnxruntime-web build runs the model: the WebGPU one where the browser can give us a GPU adapter,
 * the WASM one otherwise. A pure function of what it is handed (a navigator, whether wasm JSPI exists), so
 * it is tested with fakes and decided once, inside the Web Worker that will run the session.
 */

export type DevicePreference = 'auto' | 'webgpu' | 'wasm'
export type Device = 'webgpu' | 'wasm'

/** The slice of `navigator.gpu` the check needs. */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<unknown>
}

export interface DeviceEnvironment {
  /** `navigator` of the page or the worker (both have `gpu` where WebGPU is exposed). */
  navigator?: { gpu?: GpuLike | null } | null
  /**
   * Whether WebAssembly JS Promise Integration exists. onnxruntime-web's WebGPU builds are JSPI (16.8 MB
   * .wasm) or Asyncify (26.8 MB, over the 25 MiB Workers Static Assets limit), so WebGPU here means JSPI.
   */
  jspi: boolean
  /** Give up on an adapter that has not answered after this many ms. Default 3000. */
  adapterTimeoutMs?: number
}

export interface DeviceChoice {
  device: Device
  /** Why, in words, for logs and the demo page. */
  reason: string
}

/** `device: 'webgpu'` was asked for explicitly and this browser cannot provide it. */
export class DeviceUnavailableError extends Error {
  constructor(reason: string) {
    super(`WebGPU is not available: ${reason}`)
    this.name = 'DeviceUnavailableError'
  }
}

/** Whether this engine has wasm JSPI (WebAssembly.Suspending and WebAssembly.promising). */
export function jspiSupported(wasm: object | undefined = globalThis.WebAssembly): boolean {
  const w = wasm as { Suspending?: unknown; promising?: unknown } | undefined
  return typeof w?.Suspending === 'function' && typeof w?.promising === 'function'
}

/** Why WebGPU cannot be used, or undefined when it can. */
async function webgpuProblem(env: DeviceEnvironment): Promise<string | undefined> {
  const gpu = env.navigator?.gpu
  if (!gpu || typeof gpu.requestAdapter !== 'function') return 'navigator.gpu is missing'
  if (!env.jspi) return 'this engine lacks WebAssembly JSPI, which onnxruntime-web WebGPU build needs'
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), env.adapterTimeoutMs ?? 3000)
  })
  try {
    const adapter = await Promise.race([gpu.requestAdapter(), timeout])
    if (adapter === 'timeout') return 'navigator.gpu.requestAdapter() did not answer'
    if (!adapter) return 'navigator.gpu.requestAdapter() gave no adapter'
    return undefined
  } catch (err) {
    return `navigator.gpu.requestAdapter() threw (${(err as Error)?.message ?? String(err)})`
  } finally {
    clearTimeout(timer)
  }
}

/**
 * @example
 * const { device } = await chooseDevice('auto', { navigator: self.navigator, jspi: jspiSupported() })
 */
export async function chooseDevice(preference: DevicePreference, env: DeviceEnvironment): Promise<DeviceChoice> {
  if (preference === 'wasm') return { device: 'wasm', reason: 'asked for wasm' }
  if (preference !== 'auto' && preference !== 'webgpu') throw new TypeError(`device must be 'auto', 'webgpu' or 'wasm', got ${String(preference)}`)
  const problem = await webgpuProblem(env)
  if (problem === undefined) return { device: 'webgpu', reason: 'navigator.gpu gave an adapter' }
  if (preference === 'webgpu') throw new DeviceUnavailableError(problem)
  return { device: 'wasm', reason: problem }
}
