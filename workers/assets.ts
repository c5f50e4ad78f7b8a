/**
 * A bundle's files from Workers Static Assets. The bundles are uploaded as assets (fetched lazily, outside
 * the script size limit, each file under 25 MiB) and read through the ASSETS binding, never over HTTP.
 */
import { ArtifactError, type FileSource } from '../src/bundle/source.ts'
import type { AssetsBinding } from './env.ts'

// The binding ignores the host; only the path selects the asset.
const ORIGIN = 'https://assets.local'

/**
 * @example
 * const bundle = await loadBundle(assetsSource(env.ASSETS, 'spam'))
 */
export function assetsSource(assets: AssetsBinding, folder: string): FileSource {
  return async (path) => {
    const url = `${ORIGIN}/${folder}/${path}`
    const res = await assets.fetch(new Request(url))
    if (res.status === 404) throw new ArtifactError('missing_file', `${folder}/${path}: not among the worker's static assets (was the bundle built and staged by \`npm run build:worker\`?)`)
    if (!res.ok) throw new ArtifactError('missing_file', `${folder}/${path}: HTTP ${res.status} from the ASSETS binding`)
    return new Uint8Array(await res.arrayBuffer())
  }
}
