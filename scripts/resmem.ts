#!/usr/bin/env node
/**
 * The `resmem` command line: one entry, one module per subcommand under scripts/commands/.
 * Each command module exports `run(argv: string[]): Promise<void>`.
 * In the repository it runs with tsx (`npx tsx scripts/resmem.ts`); the package's `bin` is its build,
 * dist/scripts/resmem.js, run by node (hence the shebang).
 */
import { CliError } from './cli/errors.ts'
import { MissingPackageError, missingPackage } from './cli/missing-package.ts'

const commands: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<void> }> }> = {
  prepare: { summary: 'prepare a labelled dataset (spam | langid | a JSONL/CSV file) into train/val/test JSONL', load: () => import('./commands/prepare.ts') },
  train: { summary: 'train a small BERT-style base classifier with torch and export it in the Hugging Face layout', load: () => import('./commands/train.ts') },
  build: { summary: 'export a ResMem-ready ONNX model and a quantized residual memory', load: () => import('./commands/build.ts') },
  init: { summary: 'write a new Cloudflare Worker project that serves a ResMem build with this package', load: () => import('./commands/init.ts') },
  'build-defaults': { summary: 'prepare data and build the shipped default models (spam, langid; in a clone of the repository)', load: () => import('./commands/build-defaults.ts') },
  eval: { summary: 'evaluate base, kNN, ResMem and naive Bayes on a test split; write eval.json and an HTML report', load: () => import('./commands/eval.ts') },
  memory: { summary: "pull a deployed worker's edit log (learned and forgotten examples) to fold into a build", load: () => import('./commands/memory.ts') },
  bench: { summary: 'benchmark the k-NN kernel and the worker; write bench.json (in a clone of the repository)', load: () => import('./commands/bench.ts') },
}

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`)
  return `usage: resmem <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nrun \`resmem <command> --help\` for a command's options`
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h') {
    console.log(usage())
    return
  }
  const command = commands[name]
  if (!command) throw new CliError(`unknown command "${name}"\n\n${usage()}`)
  try {
    const mod = await command.load()
    await mod.run(rest)
  } catch (err) {
    // A package the command loads when it runs (onnxruntime-node, a dataset's package) is not installed.
    const missing = missingPackage(err)
    if (missing) throw new MissingPackageError(missing, name)
    throw err
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError) {
    console.error(`resmem: ${err.message}`)
    process.exit(err.exitCode)
  }
  console.error(err)
  process.exit(1)
})
