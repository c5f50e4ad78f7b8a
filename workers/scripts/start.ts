/**
 * `npm start`: builds whatever is missing, then serves the worker with `wrangler dev` on 127.0.0.1:8787.
 *  1. the k-NN kernel (`npm run build:wasm`) when wasm/build/knn-simd.wasm is missing;
 *  2. the bundle artifacts/$MODEL (`resmem build-defaults --only $MODEL --if-missing`; MODEL defaults to spam);
 *  3. `npm run build:worker` (ORT .wasm copy, staged assets);
 *  4. `wrangler dev --ip 127.0.0.1 --port 8787`, offline: no metrics, no cf fetch. Extra arguments go to it
 *     (`npm start -- --port 9000`).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { kernelPath } from '../../wasm/build.ts'
import { ROOT } from './build.ts'

const model = process.env.MODEL || 'spam'
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name)
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

async function step(label: string, command: string, args: string[]): Promise<void> {
  console.log(`start: ${label}`)
  const code = await run(command, args)
  if (code !== 0) {
    console.error(`start: ${label} failed (exit ${code})`)
    process.exit(code)
  }
}

if (!existsSync(kernelPath('simd'))) await step('building the k-NN kernel', 'npm', ['run', 'build:wasm', '--silent'])
// RESMEM_ARTIFACTS: bundles from another folder (build:worker reads it too); build-defaults writes artifacts/.
const artifacts = process.env.RESMEM_ARTIFACTS || join(ROOT, 'artifacts')
if (!existsSync(join(artifacts, model, 'manifest.json'))) {
  await step(`building artifacts/${model}`, bin('tsx'), ['scripts/resmem.ts', 'build-defaults', '--only', model, '--if-missing'])
}
await step('staging the worker build', 'npm', ['run', 'build:worker', '--silent', '--', '--model', model])

const args = ['dev', '--ip', '127.0.0.1', '--port', '8787', ...(process.env.MODEL ? ['--var', `MODEL:${model}`] : []), ...process.argv.slice(2)]
const child = spawn(bin('wrangler'), args, { cwd: ROOT, env, stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
