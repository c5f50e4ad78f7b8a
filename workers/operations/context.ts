/** What an operation needs from the door it came through (an HTTP request, an RPC call). */
import type { ServedModel } from '../classifier.ts'
import type { Bindings, Settings } from '../env.ts'
import type { Background } from '../memory/index.ts'

export interface OperationContext {
  env: Bindings
  settings: Settings
  /** The lazily loaded model; rejects with ModelUnavailableError (503). */
  model: () => Promise<ServedModel>
  /** Work that may outlive the call (ctx.waitUntil). */
  background: Background
}
