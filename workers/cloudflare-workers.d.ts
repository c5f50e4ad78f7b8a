// The parts of the Workers runtime API that workers/objects/ and workers/rpc.ts use: Durable Objects with SQLite
// storage, RPC stubs and entrypoints. (@cloudflare/workers-types would bring the whole runtime's globals, which clash with lib.dom
// that the browser code needs; these few declarations merge with test/workers/cloudflare-workers.d.ts.)
declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState
    protected env: Env
    constructor(ctx: DurableObjectState, env: Env)
  }
  /** A named entrypoint: its public methods are RPC for a service binding (`services = [{ binding, service, entrypoint }]`). */
  export abstract class WorkerEntrypoint<Env = unknown> {
    protected ctx: { waitUntil(promise: Promise<unknown>): void }
    protected env: Env
    constructor(ctx: { waitUntil(promise: Promise<unknown>): void }, env: Env)
  }
}

interface DurableObjectId {
  toString(): string
  readonly name?: string
}

type SqlStorageValue = ArrayBuffer | string | number | null

interface SqlStorageCursor<T> extends Iterable<T> {
  toArray(): T[]
  one(): T
  readonly rowsRead: number
  readonly rowsWritten: number
}

interface SqlStorage {
  exec<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T>
  readonly databaseSize: number
}

interface DurableObjectStorage {
  readonly sql: SqlStorage
  transactionSync<T>(closure: () => T): T
}

interface DurableObjectState {
  readonly id: DurableObjectId
  readonly storage: DurableObjectStorage
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>
}

/** A stub's RPC methods: the object's public methods, each answering a promise. */
type DurableObjectStub<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never
} & { readonly id: DurableObjectId }

interface DurableObjectNamespace<T = unknown> {
  idFromName(name: string): DurableObjectId
  get(id: DurableObjectId): DurableObjectStub<T>
}
