/**
 * The worker isolate's memory, read through the V8 inspector that `wrangler dev` / unstable_startWorker
 * proxies (worker.inspectorUrl):
 * - `Runtime.queryObjects(WebAssembly.Memory.prototype)`: every wasm linear memory (onnxruntime-web's and the
 *   k-NN kernel's), summed; queryObjects collects garbage first, so what follows is post-GC;
 * - `Runtime.getHeapUsage`: `usedSize` (the JS heap) and `backingStorageSize` (ArrayBuffer contents).
 * Measured here: a 64 MiB `WebAssembly.Memory` does not move backingStorageSize, a 32 MiB ArrayBuffer does,
 * so the three add up without double counting. Cloudflare's 128 MB per isolate counts the JS heap and
 * WebAssembly allocations; compiled code is not in these figures (nor in that limit).
 * The inspector answers only while the isolate is idle: it cannot sample the middle of a request. Connect only
 * to take a figure: while a debugger is attached V8 compiles wasm for debugging, which costs process memory.
 *
 * Needs a global WebSocket: Node >= 22, or Node 20 with --experimental-websocket.
 */

export interface IsolateMemory {
  /** JS heap in use (post-GC). */
  heapUsed: number
  /** ArrayBuffer backing stores. */
  arrayBuffers: number
  /** wasm linear memories, each. */
  wasmMemories: number[]
  /** heapUsed + arrayBuffers + all wasm memories. */
  total: number
}

interface Message {
  id?: number
  method?: string
  params?: { context?: { id: number } }
  result?: Record<string, unknown>
  error?: { message: string }
}

export interface Inspector {
  memory(): Promise<IsolateMemory>
  /** Any DevTools protocol method (Profiler.start, ...): its result. */
  call<T = Record<string, unknown>>(method: string, params?: object): Promise<T>
  /** Disconnects (wrangler then disables the debugger in the runtime). */
  close(): Promise<void>
}

/** Connects to the inspector; call it after the worker has served one request (wrangler attaches lazily). */
export async function connectInspector(inspectorUrl: URL): Promise<Inspector> {
  const WS = (globalThis as { WebSocket?: new (url: string, init?: object) => WebSocket }).WebSocket
  if (!WS) throw new Error('no global WebSocket: use Node >= 22, or Node 20 with --experimental-websocket')
  // wrangler's inspector proxy accepts local origins only (DNS-rebinding guard).
  const ws = new WS(new URL('/ws', inspectorUrl).href.replace(/^http/, 'ws'), { headers: { origin: 'http://127.0.0.1' } })
  await new Promise((resolve, reject) => {
    // Neither open nor error would otherwise wait for ever.
    const timer = setTimeout(() => reject(new Error(`the worker's inspector at ${inspectorUrl.href} did not open in 30 s`)), 30_000)
    ws.onopen = (event) => {
      clearTimeout(timer)
      resolve(event)
    }
    ws.onerror = () => {
      clearTimeout(timer)
      reject(new Error(`cannot connect to the worker's inspector at ${inspectorUrl.href}`))
    }
  })
  let next = 0
  let context: number | undefined
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>()
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as Message
    if (message.method === 'Runtime.executionContextCreated') context = message.params?.context?.id
    const waiting = message.id === undefined ? undefined : pending.get(message.id)
    if (!waiting) return
    pending.delete(message.id!)
    if (message.error) waiting.reject(new Error(`inspector: ${message.error.message}`))
    else waiting.resolve(message)
  }
  const call = <T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> =>
    new Promise<Message>((resolve, reject) => {
      const id = ++next
      pending.set(id, { resolve, reject })
      ws.send(JSON.stringify({ id, method, params }))
      setTimeout(() => pending.has(id) && (pending.delete(id), reject(new Error(`inspector: ${method} timed out`))), 30_000)
    }).then((m) => m.result as T)

  // Enabling Runtime reports the execution contexts; wrangler keeps one runtime session across DevTools
  // connections, where Runtime may already be enabled: disable it first so the context is reported again.
  await call('Runtime.disable')
  await call('Runtime.enable')
  for (let i = 0; context === undefined && i < 50; i++) await new Promise((r) => setTimeout(r, 20))
  if (context === undefined) throw new Error('inspector: the worker reported no execution context')

  return {
    call,
    async memory() {
      const group = 'resmem-load'
      const proto = await call<{ result: { objectId: string } }>('Runtime.evaluate', { contextId: context, expression: 'WebAssembly.Memory.prototype', objectGroup: group })
      const found = await call<{ objects: { objectId: string } }>('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId, objectGroup: group })
      const sizes = await call<{ result: { value: number[] } }>('Runtime.callFunctionOn', {
        objectId: found.objects.objectId,
        functionDeclaration: 'function () { return this.map((m) => m.buffer.byteLength) }',
        returnByValue: true,
      })
      await call('Runtime.releaseObjectGroup', { objectGroup: group })
      const heap = await call<{ usedSize: number; backingStorageSize: number }>('Runtime.getHeapUsage')
      const wasmMemories = sizes.result.value
      const total = heap.usedSize + heap.backingStorageSize + wasmMemories.reduce((s, n) => s + n, 0)
      return { heapUsed: heap.usedSize, arrayBuffers: heap.backingStorageSize, wasmMemories, total }
    },
    close: () =>
      new Promise<void>((resolve) => {
        ws.onclose = () => resolve()
        ws.close()
        setTimeout(resolve, 1000)
      }),
  }
}
