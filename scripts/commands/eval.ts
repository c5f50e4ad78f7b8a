import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CliError } from '../cli/errors.ts'
import { DEFAULT_DATASETS, DEFAULT_KEYS, ensurePrepared, isDefaultDataset } from '../build/defaults.ts'
import { evaluate, evaluateBuild, type EvalResult } from '../eval/run.ts'
import { renderReport } from '../eval/report.ts'
import { parseKeySpec, type KeySpec } from '../export/index.ts'

const HELP = `usage: resmem eval --dataset spam|langid [--key KEY] [--out DIR]
       resmem eval --model DIR --memory DIR --test FILE [--out DIR]

Scores base, knn, knn-interp, resmem-fp32, resmem-int8 and naive-bayes on the test split (settings tuned on
val) and writes DIR/eval.json and DIR/report.html (default DIR: out/eval/<dataset>). With --memory, scores a
finished build (base and resmem-int8) on --test. --key as in \`resmem build\` (default: the key the shipped build uses).
--key-dims 192,128,64 adds int8 memories with keys PCA-projected to those dimensions (\`resmem build --key-dim\`).`

export function formatTable(result: EvalResult): string {
  const header = ['method', 'accuracy', 'macro_f1', 'memory_bytes', 'build_s', 'settings (val)']
  const lines = result.rows.map((r) => [
    r.method,
    r.accuracy.toFixed(4),
    r.macro_f1.toFixed(4),
    String(r.memory_bytes),
    r.build_seconds.toFixed(1),
    Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' '),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [`${result.dataset}: train ${result.examples.train}, val ${result.examples.val}, test ${result.examples.test}; memory key ${result.key}`, fmt(header), ...lines.map(fmt)].join('\n')
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      model: { type: 'string' },
      memory: { type: 'string' },
      test: { type: 'string' },
      out: { type: 'string' },
      key: { type: 'string' },
      'key-dims': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return console.log(HELP)
  let result: EvalResult
  if (values.dataset !== undefined) {
    if (!isDefaultDataset(values.dataset)) throw new CliError(`--dataset: "${values.dataset}" is not one of ${DEFAULT_DATASETS.join(', ')}`)
    const paths = await ensurePrepared(values.dataset)
    let key: KeySpec | undefined
    try {
      key = parseKeySpec(values.key ?? DEFAULT_KEYS[values.dataset])
    } catch (err) {
      throw new CliError(`--key: ${(err as Error).message}`)
    }
    const keyDims = values['key-dims']?.split(',').map(Number)
    if (keyDims?.some((d) => !Number.isInteger(d) || d < 1)) throw new CliError(`--key-dims: expected positive integers separated by commas, got "${values['key-dims']}"`)
    result = await evaluate({ dataset: values.dataset, model: paths.model, train: paths.train, val: paths.val, test: paths.test, key, keyDims })
  } else if (values.model && values.memory && values.test) {
    result = await evaluateBuild(values.model, values.memory, values.test)
  } else throw new CliError(`give --dataset, or --model, --memory and --test\n\n${HELP}`)

  const out = values.out ?? join('out', 'eval', result.dataset)
  await mkdir(out, { recursive: true })
  const json = { dataset: result.dataset, key: result.key, examples: result.examples, rows: result.rows }
  await writeFile(join(out, 'eval.json'), JSON.stringify(json, null, 2) + '\n')
  await writeFile(join(out, 'report.html'), renderReport(result))
  console.log(formatTable(result))
  console.log(`wrote ${join(out, 'eval.json')} and ${join(out, 'report.html')}`)
}
