// The parts of vitest-pool-workers' `cloudflare:workers` module these tests use (its own types need
// @cloudflare/workers-types, which the project does not install).
declare module 'cloudflare:workers' {
  export const env: import('../../workers/env.ts').Bindings
  export const exports: { default: { fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> } }
}

// workerd's byte stream whose writes wait for the reader (a global there, absent from lib.dom).
declare class IdentityTransformStream extends TransformStream<Uint8Array, Uint8Array> {}

// The parts of vitest-pool-workers' `cloudflare:test` module these tests use.
declare module 'cloudflare:test' {
  /** Resets every Durable Object instance (as an eviction would); their storage stays. */
  export function abortAllDurableObjects(): Promise<void>
  /** Runs `callback` inside the object behind `stub`. */
  export function runInDurableObject<O, R>(stub: DurableObjectStub<O>, callback: (instance: O, state: DurableObjectState) => R | Promise<R>): Promise<R>
}
