/** `npm pack` of this repository, as a publisher would run it (its prepack step builds dist/). */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../../scripts/package/build.ts'

export interface PackedTarball {
  /** Absolute path of the .tgz (empty for a dry run). */
  path: string
  /** Bytes of the .tgz. */
  size: number
  unpackedSize: number
  /** Paths inside the package, sorted. */
  files: string[]
}

interface NpmPackJson {
  filename: string
  size: number
  unpackedSize: number
  files: { path: string }[]
}

async function npmPack(args: string[]): Promise<NpmPackJson> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--json', ...args], { cwd: ROOT, maxBuffer: 64 << 20 })
  // Lifecycle scripts (prepack) print to the same stdout before npm's JSON.
  const json = stdout.slice(stdout.search(/^\[/m))
  const [pack] = JSON.parse(json) as NpmPackJson[]
  return pack
}

/** Packs into `dest`. */
export async function packTarball(dest: string): Promise<PackedTarball> {
  const pack = await npmPack(['--pack-destination', dest])
  return { path: join(dest, pack.filename), size: pack.size, unpackedSize: pack.unpackedSize, files: pack.files.map((f) => f.path).sort() }
}

/** `npm pack --dry-run`: what would be packed, from the dist/ already built. */
export async function packDryRun(): Promise<PackedTarball> {
  const pack = await npmPack(['--dry-run', '--ignore-scripts'])
  return { path: '', size: pack.size, unpackedSize: pack.unpackedSize, files: pack.files.map((f) => f.path).sort() }
}
