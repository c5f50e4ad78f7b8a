/** The worker entry: `wrangler dev` / `wrangler deploy` serve this app (wrangler.toml `main`). */
import { createApp } from './app.ts'

const app = createApp()

export default app
