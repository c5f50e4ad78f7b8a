/**
 * package.json files the CLI reads at run time: its own (version, the versions it was tested with) and those of
 * installed packages. Found by walking up the folders, so the same code works from scripts/ in the repository
 * and from dist/scripts/ in an installed package.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface PackageJson {
  name: string
  version: string
  /** Absolute path of the package folder. */
  dir: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

/** The package.json named `name` in `from` or the nearest folder above it. */
export function findPackage(from: string, name: string): PackageJson {
  let dir = from
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Omit<PackageJson, 'dir'>
      if (pkg.name === name) return { ...pkg, version: pkg.version ?? 'unknown', dir }
    } catch {
      // No package.json at this level: keep walking up.
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find package.json of ${name} above ${from}`)
    dir = parent
  }
}

export const OWN_NAME = 'resmem-edge'

let own: PackageJson | undefined

/** resmem-edge's own package.json. */
export function ownPackage(): PackageJson {
  own ??= findPackage(dirname(fileURLToPath(import.meta.url)), OWN_NAME)
  return own
}

/**
 * An installed package, resolved from its entry (`<pkg>/package.json` itself cannot be resolved when the
 * package's "exports" map hides it); undefined when it is not installed.
 */
export function installedPackage(name: string): PackageJson | undefined {
  let entry: string
  try {
    entry = createRequire(import.meta.url).resolve(name)
  } catch {
    return undefined
  }
  return findPackage(dirname(entry), name)
}
