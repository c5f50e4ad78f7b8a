// Which python `resmem train` uses, and what it says when none can train. The interpreters here are small
// executables that answer the probe as a python with or without torch would, so the order and the messages
// are checked the same way on every machine (with or without torch installed).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CliError } from '../../../scripts/cli/errors.ts'
import { DEFAULT_PYTHONS, findTorchPython, installCommands, pythonCandidates } from '../../../scripts/train/python.ts'

const dir = mkdtempSync(join(tmpdir(), 'resmem-python-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function fakePython(name: string, script: string): string {
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\n${script}\n`)
  chmodSync(path, 0o755)
  return path
}

const withTorch = fakePython('with-torch', 'echo "2.5.1 1.17.0"')
const noTorch = fakePython('no-torch', `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`)
const noOnnx = fakePython('no-onnx', `echo "ModuleNotFoundError: No module named 'onnx'" >&2; exit 1`)

describe('findTorchPython', () => {
  it('tries RESMEM_PYTHON first, then python3, /usr/bin/python3 and python, each once', () => {
    expect(pythonCandidates({})).toEqual(DEFAULT_PYTHONS)
    expect(pythonCandidates({ RESMEM_PYTHON: '/opt/py/bin/python' })).toEqual(['/opt/py/bin/python', ...DEFAULT_PYTHONS])
    expect(pythonCandidates({ RESMEM_PYTHON: 'python3' })).toEqual(DEFAULT_PYTHONS)
  })

  it('takes the first that imports torch and onnx', () => {
    expect(findTorchPython([noTorch, noOnnx, withTorch])).toEqual({ command: withTorch, torch: '2.5.1', onnx: '1.17.0' })
  })

  it('says what each candidate lacks and the exact commands to install torch and onnx', () => {
    let error: unknown
    try {
      findTorchPython([join(dir, 'missing-python'), noTorch, noOnnx])
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(CliError)
    const message = (error as Error).message
    expect(message).toContain(`${join(dir, 'missing-python')}: not found`)
    expect(message).toContain(`${noTorch}: cannot import torch`)
    expect(message).toContain(`${noOnnx}: cannot import onnx`)
    expect(message).toContain('RESMEM_PYTHON')
    for (const command of installCommands()) expect(message).toContain(command)
  })

  it('gives the Debian packages (with sudo unless root) and pip', () => {
    expect(installCommands({ apt: true, root: false })[0]).toContain('sudo apt-get install -y --no-install-recommends python3-torch python3-onnx libopenblas0-pthread')
    expect(installCommands({ apt: true, root: true })[0]).not.toContain('sudo')
    expect(installCommands({ apt: false })[0]).toBe('python3 -m pip install torch onnx')
  })
})
