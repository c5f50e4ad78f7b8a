import { describe, expect, it } from 'vitest'
import { chooseDevice, DeviceUnavailableError, jspiSupported, type DeviceEnvironment } from '../../src/browser/device.ts'

const withAdapter = (adapter: unknown) => ({ gpu: { requestAdapter: async () => adapter } })
const env = (navigator: DeviceEnvironment['navigator'], jspi = true): DeviceEnvironment => ({ navigator, jspi, adapterTimeoutMs: 50 })

describe('chooseDevice', () => {
  it('picks WebGPU when navigator.gpu gives an adapter', async () => {
    expect(await chooseDevice('auto', env(withAdapter({ name: 'fake' })))).toEqual({ device: 'webgpu', reason: 'navigator.gpu gave an adapter' })
    expect((await chooseDevice('webgpu', env(withAdapter({})))).device).toBe('webgpu')
  })

  it('falls back to WASM without navigator.gpu', async () => {
    for (const navigator of [undefined, null, {}, { gpu: undefined }, { gpu: null }]) {
      const choice = await chooseDevice('auto', env(navigator))
      expect(choice).toEqual({ device: 'wasm', reason: 'navigator.gpu is missing' })
    }
  })

  it('falls back to WASM when the adapter is null', async () => {
    expect(await chooseDevice('auto', env(withAdapter(null)))).toEqual({ device: 'wasm', reason: 'navigator.gpu.requestAdapter() gave no adapter' })
  })

  it('falls back to WASM when requestAdapter throws or rejects', async () => {
    const throwing = { gpu: { requestAdapter: () => { throw new Error('blocked by policy') } } }
    const rejecting = { gpu: { requestAdapter: () => Promise.reject(new Error('GPU process crashed')) } }
    expect(await chooseDevice('auto', env(throwing))).toEqual({ device: 'wasm', reason: 'navigator.gpu.requestAdapter() threw (blocked by policy)' })
    expect((await chooseDevice('auto', env(rejecting))).reason).toContain('GPU process crashed')
  })

  it('falls back to WASM when requestAdapter never answers', async () => {
    const hanging = { gpu: { requestAdapter: () => new Promise<never>(() => undefined) } }
    expect(await chooseDevice('auto', env(hanging))).toEqual({ device: 'wasm', reason: 'navigator.gpu.requestAdapter() did not answer' })
  })

  it('needs wasm JSPI for the WebGPU build, and does not ask for an adapter without it', async () => {
    let asked = false
    const gpu = { requestAdapter: async () => ((asked = true), {}) }
    const choice = await chooseDevice('auto', env({ gpu }, false))
    expect(choice.device).toBe('wasm')
    expect(choice.reason).toMatch(/JSPI/)
    expect(asked).toBe(false)
  })

  it("'wasm' never touches the GPU", async () => {
    const gpu = { requestAdapter: async () => { throw new Error('must not be called') } }
    expect(await chooseDevice('wasm', env({ gpu }))).toEqual({ device: 'wasm', reason: 'asked for wasm' })
  })

  it("'webgpu' fails, saying why, where WebGPU cannot be had", async () => {
    await expect(chooseDevice('webgpu', env(withAdapter(null)))).rejects.toThrow(DeviceUnavailableError)
    await expect(chooseDevice('webgpu', env(undefined))).rejects.toThrow('WebGPU is not available: navigator.gpu is missing')
  })

  it('rejects an unknown preference', async () => {
    await expect(chooseDevice('gpu' as never, env(undefined))).rejects.toThrow(TypeError)
  })
})

describe('jspiSupported', () => {
  it('looks for WebAssembly.Suspending and WebAssembly.promising', () => {
    expect(jspiSupported({ Suspending: function () {}, promising: () => undefined })).toBe(true)
    expect(jspiSupported({ promising: () => undefined })).toBe(false)
    expect(jspiSupported({})).toBe(false)
  })
})
