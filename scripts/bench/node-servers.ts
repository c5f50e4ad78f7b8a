/** Starts node-server.ts as a child process and waits for its port; `stop()` ends that child (by its pid). */
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { NodeImpl, OrtThreads } from './node-classifiers.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const TSX = join(HERE, '..', '..', 'node_modules', '.bin', 'tsx')

export interface NodeServer {
  impl: NodeImpl
  url: URL
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
// Never leave a server behind, whatever way the bench ends.
process.on('exit', () => {
  for (const child of running) child.kill()
})

export function startNodeServer(impl: NodeImpl, bundle: string, threads: OrtThreads = '1', timeoutMs = 60_000): Promise<NodeServer> {
  const child = spawn(TSX, [join(HERE, 'node-server.ts'), impl, bundle, threads], { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)))
  const stop = () =>
    new Promise<void>((resolve) => {
      running.delete(child)
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill()
    })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`node-server ${impl}: not listening after ${timeoutMs} ms\n${stderr}`))
    }, timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`node-server ${impl} exited (${code})\n${stderr}`))
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line)
      if (!m) return
      clearTimeout(timer)
      resolve({ impl, url: new URL(`http://127.0.0.1:${m[1]}/`), stop })
    })
  })
}
