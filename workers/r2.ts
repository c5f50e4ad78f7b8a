/**
 * A bundle's files from an R2 bucket (`BUNDLE_SOURCE = "r2"`): objects `${folder}/${path}`, as uploaded with
 * `wrangler r2 object put`. R2 has no 25 MiB per-file limit, and a new memory can be uploaded without
 * redeploying the worker's assets.
 */
import { ArtifactError, type FileSource } from '../src/bundle/source.ts'

/** The slice of the Workers `R2Bucket` binding the source needs. */
export interface R2BucketLike {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>
}

/**
 * @example
 * const bundle = await loadBundle(r2Source(env.BUNDLES, 'spam'))
 */
export function r2Source(bucket: R2BucketLike, folder: string): FileSource {
  return async (path) => {
    const key = `${folder}/${path}`
    const object = await bucket.get(key)
    if (!object) throw new ArtifactError('missing_file', `${key}: not in the R2 bucket bound as BUNDLES (upload it with \`npx wrangler r2 object put <bucket>/${key} --file ...\`)`)
    return new Uint8Array(await object.arrayBuffer())
  }
}
