import { MissingPackageError } from '../cli/missing-package.ts'
import { installedPackage } from '../cli/package.ts'
import type { LabelledExample } from './example.ts'

/** An npm package a dataset is read from, recorded in info.json so a prepared set can be traced. */
export interface SourcePackage {
  name: string
  version: string
  /** Absolute path of the installed package folder. */
  dir: string
}

/**
 * Finds an installed package (scripts/cli/package.ts). The shipped datasets' packages are development
 * dependencies: an installed resmem-edge says which one to install.
 */
export function sourcePackage(name: string): SourcePackage {
  const pkg = installedPackage(name)
  if (!pkg) throw new MissingPackageError(name)
  return { name, version: pkg.version, dir: pkg.dir }
}

/** A built-in dataset read from a package: its examples, the package, and what cleaning removed. */
export interface PreparedSource {
  examples: LabelledExample[]
  source: SourcePackage
  stats: Record<string, number>
}
