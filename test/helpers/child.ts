/**
 * Runs a command as a child in its own process group, with a deadline of its own. On the deadline the whole
 * group is killed (the child's own children too: a wrangler's workerd would otherwise hold the pipes open and
 * the caller would wait for ever), and the error names the last line the child printed on stderr: the step it
 * was on. Used where a test runs a long script whose progress lines say what it is doing.
 */
import { spawn } from 'node:child_process'

export interface ChildResult {
  stdout: string
  stderr: string
  ms: number
}

export function runChild(command: string, args: string[], options: { limitMs: number; what: string; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<ChildResult> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const lastLine = () => stderr.trim().split('\n').at(-1) ?? '(nothing printed)'
    const tail = () => stderr.slice(-3000)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // The group is gone already.
      }
    }, options.limitMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    // 'exit', not 'close': a grandchild that survives holds the pipes, and 'close' would wait for it.
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // Nothing left in the group.
      }
      const ms = Math.round(performance.now() - started)
      // Let the pipes drain what was already written.
      setImmediate(() => {
        if (timedOut) reject(new Error(`${options.what}: stalled, killed after ${(ms / 1000).toFixed(0)} s; its last step: ${lastLine()}\n--- stderr (end)\n${tail()}`))
        else if (code === 0) resolve({ stdout, stderr, ms })
        else reject(new Error(`${options.what}: failed (${signal ?? `exit ${code}`}) after ${(ms / 1000).toFixed(0)} s; its last step: ${lastLine()}\n--- stderr (end)\n${tail()}`))
      })
    })
  })
}
