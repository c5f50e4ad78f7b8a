/**
 * The python `resmem train` runs train.py with: the first of RESMEM_PYTHON, python3, /usr/bin/python3 and
 * python that imports torch and onnx. Nothing is installed behind the user's back: when none does, the error
 * lists what was tried and the exact commands that install them (Debian's packages, or pip elsewhere).
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { CliError } from '../cli/errors.ts'

export const PYTHON_ENV = 'RESMEM_PYTHON'
export const DEFAULT_PYTHONS = ['python3', '/usr/bin/python3', 'python']
/** Debian/Ubuntu packages: torch, its ONNX exporter, and a threaded BLAS (torch is ~5x slower without it). */
export const DEBIAN_PACKAGES = ['python3-torch', 'python3-onnx', 'libopenblas0-pthread']

export interface TorchPython {
  /** The command or path that was run. */
  command: string
  torch: string
  onnx: string
}

/** RESMEM_PYTHON first when set, then the usual names, each once. */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...new Set([env[PYTHON_ENV], ...DEFAULT_PYTHONS].filter((p): p is string => Boolean(p)))]
}

const PROBE = 'import torch, onnx; print(torch.__version__, onnx.__version__)'

/** Why `command` cannot train, or its torch and onnx versions. */
export function probePython(command: string): TorchPython | string {
  const r = spawnSync(command, ['-c', PROBE], { encoding: 'utf8', timeout: 120_000 })
  if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message
  if (r.status !== 0) {
    const missing = /No module named '([^']+)'/.exec(r.stderr)?.[1]
    return missing ? `cannot import ${missing}` : `exit ${r.status ?? r.signal}: ${r.stderr.trim().split('\n').pop() ?? ''}`
  }
  const [torch = '?', onnx = '?'] = r.stdout.trim().split(/\s+/)
  return { command, torch, onnx }
}

/** The commands that give a python torch and onnx on this machine. */
export function installCommands(options: { root?: boolean; apt?: boolean } = {}): string[] {
  const root = options.root ?? process.getuid?.() === 0
  const apt = options.apt ?? existsSync('/usr/bin/apt-get')
  const debian = `${root ? '' : 'sudo '}apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES.join(' ')}`
  const pip = 'python3 -m pip install torch onnx'
  return apt ? [`Debian/Ubuntu: ${debian}  (then ${PYTHON_ENV}=/usr/bin/python3 if another python3 comes first)`, `elsewhere: ${pip}`] : [pip, `(Debian/Ubuntu: ${debian})`]
}

/**
 * @example
 * const python = findTorchPython() // { command: '/usr/bin/python3', torch: '1.13.1', onnx: '1.12.0' }
 */
export function findTorchPython(candidates: readonly string[] = pythonCandidates()): TorchPython {
  const tried: string[] = []
  for (const command of candidates) {
    const found = probePython(command)
    if (typeof found !== 'string') return found
    tried.push(`${command}: ${found}`)
  }
  throw new CliError(
    [
      `training needs a python that imports torch and onnx; none does here (${tried.join('; ')}).`,
      'Install them:',
      ...installCommands().map((c) => `  ${c}`),
      `or point ${PYTHON_ENV} at a python that has them.`,
    ].join('\n'),
    1,
  )
}
