/** The Hono environment shared by the app and its route modules. */
import type { ServedModel } from './classifier.ts'
import type { Bindings, Settings } from './env.ts'

export interface AppEnv {
  Bindings: Bindings
  Variables: {
    settings: Settings
    /** The lazily loaded model; rejects with ModelUnavailableError (503). */
    model: () => Promise<ServedModel>
  }
}
