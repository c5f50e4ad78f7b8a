/**
 * `resmem-edge/workers`: the ResMem API for Cloudflare Workers, as a whole app (`createApp`) or as routes to
 * mount in an app of your own (`resmemRoutes`). The model and memory are read from the Worker's static assets
 * (binding ASSETS, one folder per bundle, the MODEL var picks one); onnxruntime-web's .wasm and the k-NN kernel
 * are static imports that wrangler bundles from the installed packages.
 *
 * @example
 * // src/index.ts, the `main` of wrangler.toml
 * import { createApp, lazyModel, loadFromBundleSource, resmemEntrypoint } from 'resmem-edge/workers'
 * const model = lazyModel(loadFromBundleSource) // one per isolate, shared by HTTP and RPC
 * export default createApp({ sharedModel: model })
 * export const ResMem = resmemEntrypoint(model) // services = [{ binding, service, entrypoint = "ResMem" }]
 */
export { createApp, type AppOptions } from './app.ts'
export { resmemRoutes, type ResMemRoutesOptions } from './mount.ts'
// RPC for other Workers through a service binding (the same operations as the HTTP routes).
export { resmemEntrypoint, ResMemEntrypoint, parseResMemError, ResMemError, RPC_WRITER, type ClassifyRpcOptions } from './rpc.ts'
export { lazyModel, loadFromAssets, loadFromBundleSource, ModelUnavailableError, ORT_BATCH, type ModelLoader, type ServedModel } from './classifier.ts'
export { settings, DEFAULTS, ConfigError, type AssetsBinding, type Bindings, type Settings } from './env.ts'
export type { AppEnv } from './app-env.ts'
// Durable Object classes: a worker re-exports them from its main module for wrangler.toml's bindings.
export { EditLog } from './objects/edit-log.ts'
export { MemoryShard } from './objects/memory-shard.ts'
