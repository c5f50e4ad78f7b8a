/**
 * Where the worker reads its bundles (BUNDLE_SOURCE): Workers Static Assets (default, staged by
 * `npm run build:worker`) or an R2 bucket bound as BUNDLES. The isolate and the memory shards read the same one.
 */
import type { FileSource } from '../src/bundle/source.ts'
import { assetsSource } from './assets.ts'
import { ConfigError, type Bindings, type BundleSourceKind } from './env.ts'
import { r2Source } from './r2.ts'

export function bundleSource(env: Bindings, kind: BundleSourceKind, folder: string): FileSource {
  if (kind === 'assets') return assetsSource(env.ASSETS, folder)
  if (!env.BUNDLES) throw new ConfigError('BUNDLE_SOURCE is "r2" but no R2 bucket is bound as BUNDLES (wrangler.toml: [[r2_buckets]] binding = "BUNDLES")')
  return r2Source(env.BUNDLES, folder)
}
