import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { loadBundle } from '../../src/bundle/load.ts'
import { dirSource } from '../../src/node/source.ts'
import { CliError } from '../cli/errors.ts'

/**
 * Writes a bundle so that a failed or interrupted build never replaces a good one: files go to a temporary
 * sibling folder, the folder is loaded and cross-checked like a server would, and only then swapped in.
 */
export async function writeBundleAtomically(out: string, files: Record<string, Uint8Array | string>): Promise<void> {
  const target = resolve(out)
  const tmp = `${target}.tmp-${process.pid}`
  const old = `${target}.old-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  try {
    for (const [path, content] of Object.entries(files)) {
      const full = join(tmp, path)
      await mkdir(dirname(full), { recursive: true })
      await writeFile(full, content)
    }
    await loadBundle(dirSource(tmp))
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw new CliError(`${out}: the new build failed verification and was not written (${(err as Error).message})`)
  }
  await mkdir(dirname(target), { recursive: true })
  let hadOld = true
  try {
    await rename(target, old)
  } catch {
    hadOld = false
  }
  await rename(tmp, target)
  if (hadOld) await rm(old, { recursive: true, force: true })
}
