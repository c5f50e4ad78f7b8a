/** The worker entry: `wrangler dev` / `wrangler deploy` serve this app (wrangler.toml `main`). */
import { createApp } from './app.ts'

const app = createApp()

export default app

// Durable Object classes must be exports of the main module (wrangler.toml [[durable_objects.bindings]]).
export { EditLog } from './objects/edit-log.ts'
export { MemoryShard } from './objects/memory-shard.ts'
