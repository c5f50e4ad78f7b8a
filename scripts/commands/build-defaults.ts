import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CliError } from '../cli/errors.ts'
import { DEFAULT_DATASETS, ensurePrepared, isDefaultDataset } from '../build/defaults.ts'
import { buildResMem } from '../build/pipeline.ts'
import { printBuild } from './build.ts'

const HELP = `usage: resmem build-defaults [--only spam|langid] [--if-missing]

Prepares the shipped datasets (from their npm packages) and builds artifacts/<name> from models/<name>
with \`resmem build\`'s defaults (key, k, sigma, T and whether the memory is on: all chosen on val).
  --only NAME     build one of: ${DEFAULT_DATASETS.join(', ')}
  --if-missing    skip a dataset whose artifacts/<name>/manifest.json exists and has what this version writes
                  (locality and conformal fields); an older build is rebuilt`

/** Whether a build has the fields this version writes (an older one serves no radius, `unfamiliar` or `set`). */
function isCurrent(manifestFile: string): boolean {
  try {
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as { locality?: unknown; conformal?: unknown }
    return m.locality !== undefined && m.conformal !== undefined
  } catch {
    return false
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { only: { type: 'string' }, 'if-missing': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help) return console.log(HELP)
  if (values.only !== undefined && !isDefaultDataset(values.only)) throw new CliError(`--only: "${values.only}" is not one of ${DEFAULT_DATASETS.join(', ')}`)
  const names = values.only ? [values.only] : DEFAULT_DATASETS
  for (const name of names) {
    if (!isDefaultDataset(name)) continue
    const paths = await ensurePrepared(name)
    const manifestFile = join(paths.artifacts, 'manifest.json')
    if (values['if-missing'] && existsSync(manifestFile)) {
      if (isCurrent(manifestFile)) {
        console.log(`${name}: ${paths.artifacts} exists, skipped`)
        continue
      }
      console.log(`${name}: ${paths.artifacts} was built before locality and conformal sets (docs/trust.md): rebuilding`)
    }
    if (!existsSync(join(paths.model, 'config.json'))) throw new CliError(`${paths.model}: no trained model (run \`npm run train -- --data ${paths.data} --out ${paths.model}\`)`)
    printBuild(await buildResMem({ model: paths.model, train: paths.train, val: paths.val, out: paths.artifacts, name }))
  }
}
