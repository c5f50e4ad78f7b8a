/** The worker entry: `wrangler dev` / `wrangler deploy` serve this app (wrangler.toml `main`). */
import { createApp } from './app.ts'
import { lazyModel, loadFromBundleSource } from './classifier.ts'
import { resmemEntrypoint } from './rpc.ts'

// One model per isolate, for HTTP and RPC alike.
const model = lazyModel(loadFromBundleSource)

const app = createApp({ sharedModel: model })

export default app

// RPC for other Workers: services = [{ binding = "RESMEM", service = "resmem-edge", entrypoint = "ResMem" }].
export const ResMem = resmemEntrypoint(model)

// Durable Object classes must be exports of the main module (wrangler.toml [[durable_objects.bindings]]).
export { EditLog } from './objects/edit-log.ts'
export { MemoryShard } from './objects/memory-shard.ts'
