/**
 * Runs a consumer's commands in a temporary folder as a user's shell would: bash, the folder's own
 * node_modules/.bin, and none of this repository's npm environment (`npm test` exports npm_* variables and puts
 * the repository's node_modules/.bin on PATH; a user's shell has neither).
 */
import { spawn } from 'node:child_process'
import { delimiter, join } from 'node:path'
import { ROOT } from '../../scripts/package/build.ts'

export interface CommandResult {
  command: string
  stdout: string
  stderr: string
  ms: number
}

/** A user's environment, plus the settings the test machine needs (offline wrangler, no CUDA download). */
export function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) if (!/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value
  const repoModules = join(ROOT, 'node_modules')
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => p && !p.startsWith(repoModules))
    .join(delimiter)
  return {
    ...env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
    // The packages are in npm's cache from the repository's own install: no need to revalidate each.
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    NO_COLOR: '1',
    ...extra,
  }
}

/** `resmem-edge` in an `npm install` line is the tarball; a bare `npm install` (the starter's) installs it too. */
export function withTarball(command: string, tarball: string): string {
  const install = /\bnpm install\b(.*)$/.exec(command)
  if (!install) return command
  const args = install[1].trim().split(/\s+/).filter(Boolean)
  if (args.includes('resmem-edge')) return command.replace(/(?<=\s)resmem-edge(?=\s|$)/, tarball)
  if (args.every((a) => a.startsWith('-'))) return `${command} ${tarball}`
  return command
}

/**
 * Runs `command` with bash in `cwd`; rejects with what it printed when it fails. bash runs in its own process
 * group: on the timeout the whole group is killed (npm, node, wrangler under it), so a hung command fails with its
 * name instead of holding the pipes open past the test's own timeout.
 */
export function sh(command: string, cwd: string, env: NodeJS.ProcessEnv = consumerEnv(), timeoutMs = 300_000): Promise<CommandResult> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // The group is gone already.
      }
    }
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const ms = Math.round(performance.now() - started)
      if (code === 0) resolve({ command, stdout, stderr, ms })
      else reject(new Error(`\`${command}\` in ${cwd} ${timedOut ? `stalled: killed after the ${timeoutMs / 1000} s limit` : `failed (${signal ?? `exit ${code}`})`} after ${ms} ms\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`))
    })
  })
}
