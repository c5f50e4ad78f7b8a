/**
 * An npm package a command needs at run time is not installed. Commands load their optional packages when
 * they run (onnxruntime-node for build/eval/train, the shipped datasets' packages for `prepare spam|langid`,
 * the bench's tools), so an installed resmem-edge says which package to install instead of printing a
 * module-resolution stack.
 */
import { NODE_ORT_INSTALL, NODE_ORT_PACKAGE } from '../../src/node/ort.ts'
import { CliError } from './errors.ts'
import { ownPackage } from './package.ts'

/** The command that installs `name` at the version this package was tested with. */
export function installCommand(name: string): string {
  const own = ownPackage()
  const range = own.peerDependencies?.[name] ?? own.dependencies?.[name] ?? own.devDependencies?.[name]
  if (name === NODE_ORT_PACKAGE) return range ? `${NODE_ORT_INSTALL}@${range}` : NODE_ORT_INSTALL
  return `npm install ${range ? `${name}@${range}` : name}`
}

export class MissingPackageError extends CliError {
  readonly packageName: string
  /** `command`: the resmem command that needs it, for the message. */
  constructor(name: string, command?: string) {
    super(`${command ? `\`resmem ${command}\` needs` : 'needs'} the npm package ${name}, which is not installed here. Install it: ${installCommand(name)}`, 1)
    this.name = 'MissingPackageError'
    this.packageName = name
  }
}

// "Cannot find package 'x' imported from ..." (import) or "Cannot find module 'x'" / "'x/package.json'" (require).
const NOT_FOUND = /Cannot find (?:package|module) '((?:@[a-z0-9~-][\w.~-]*\/)?[a-z0-9~-][\w.~-]*)(?:\/[^']*)?'/i

/**
 * The package an error says is missing: a bare package name that did not resolve (not a file of this
 * package, which would be a bug to report as it is), or undefined.
 */
export function missingPackage(err: unknown): string | undefined {
  if (err instanceof MissingPackageError) return err.packageName
  const e = err as { code?: unknown; message?: unknown; packageName?: unknown }
  if (e?.code === 'ERR_RESMEM_MISSING_RUNTIME' && typeof e.packageName === 'string') return e.packageName
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' && e?.code !== 'MODULE_NOT_FOUND') return undefined
  return typeof e.message === 'string' ? NOT_FOUND.exec(e.message)?.[1] : undefined
}
