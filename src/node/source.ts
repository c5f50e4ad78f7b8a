import { readFile } from 'node:fs/promises'
import { join, resolve, sep } from 'node:path'
import { ArtifactError, type FileSource } from '../bundle/source.ts'

/** Files of a bundle in a local folder. Paths may not leave the folder. */
export function dirSource(dir: string): FileSource {
  const root = resolve(dir)
  return async (path) => {
    const full = resolve(join(root, path))
    if (full !== root && !full.startsWith(root + sep)) throw new ArtifactError('missing_file', `${path}: outside ${root}`)
    try {
      return new Uint8Array(await readFile(full))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new ArtifactError('missing_file', code === 'ENOENT' ? `${full}: no such file` : `${full}: ${(err as Error).message}`)
    }
  }
}
