/**
 * `resmem init DIR`: writes a new Cloudflare Worker project that serves a ResMem build with this package
 * (scripts/init/starter.ts). It never overwrites: DIR must not exist or be empty.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { CliError } from '../cli/errors.ts'
import { ownPackage } from '../cli/package.ts'
import { STARTER_COMMANDS, starterFiles, workerName } from '../init/starter.ts'

const HELP = `usage: resmem init DIR [--name NAME]

Writes a new Cloudflare Worker project in DIR (which must not exist, or be empty) that serves a ResMem build
with resmem-edge: package.json, wrangler.toml (the bundle as static assets), src/index.ts, README.md.

  --name NAME   the Worker's name (default: DIR's name, lowercase, dashes)`

export async function run(argv: string[]): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  } catch (err) {
    throw new CliError(`init: ${(err as Error).message}\n\n${HELP}`)
  }
  const { values, positionals } = parsed
  if (values.help) return console.log(HELP)
  if (positionals.length !== 1) throw new CliError(`init: give one folder to write the project into\n\n${HELP}`)
  const dir = resolve(positionals[0])
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new CliError(`init: ${positionals[0]} exists and is not empty; choose a new folder`)

  const name = workerName(values.name ?? basename(dir))
  const files = starterFiles({ name, own: ownPackage() })
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path)
    await mkdir(dirname(full), { recursive: true })
    await writeFile(full, content, { flag: 'wx' })
  }
  console.log(`wrote ${Object.keys(files).join(', ')} to ${positionals[0]} (worker "${name}"). Next:\n`)
  console.log([`cd ${positionals[0]}`, ...STARTER_COMMANDS].map((c) => `  ${c}`).join('\n'))
}
