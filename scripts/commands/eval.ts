import { mkdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CliError } from '../cli/errors.ts'
import { DEFAULT_DATASETS, ensurePrepared, isDefaultDataset } from '../build/defaults.ts'
import { evaluate, evaluateBuild, type EvalResult } from '../eval/run.ts'
import { renderReport } from '../eval/report.ts'
import { parseKeySpec, type KeySpec } from '../export/index.ts'
import { evaluateTrust, readOodTexts } from '../eval/trust.ts'
import { readLabelledJsonl } from '../data/index.ts'
import { loadClassifier } from '../../src/node/index.ts'

/** The OOD sets shipped for the default datasets (test/fixtures/ood, test/fixtures/casual-notes). */
const SHIPPED_OOD: Record<string, string[]> = {
  spam: ['test/fixtures/casual-notes/set-1.jsonl+test/fixtures/casual-notes/set-2.jsonl', 'test/fixtures/ood/langid-sentences.jsonl'],
  langid: ['test/fixtures/ood/spam-mails.jsonl'],
}
/** The repository (or package) root: the shipped OOD sets are read from there, not from the working directory. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The shipped OOD sets of a dataset whose files are here (a clone has them; an installed package does not). */
function shippedOod(dataset: string): string[] {
  const specs = (SHIPPED_OOD[dataset] ?? []).map((spec) => spec.split('+').map((f) => join(ROOT, f)))
  const missing = specs.flat().filter((f) => !existsSync(f))
  if (missing.length) console.error(`resmem eval: the shipped OOD sets are not here (${missing.join(', ')}): skipped; --ood FILE adds your own`)
  return specs.filter((files) => files.every((f) => existsSync(f))).map((files) => files.join('+'))
}

/** Alphas of the coverage plot; the table shows 0.1 and 0.05. */
const PLOT_ALPHAS = [0.3, 0.2, 0.15, 0.1, 0.05, 0.02, 0.01]

const HELP = `usage: resmem eval --dataset spam|langid [--key KEY] [--out DIR]
       resmem eval --model DIR --memory DIR --test FILE [--train FILE] [--val FILE] [--out DIR]

Scores base, knn, knn-interp, resmem-fp32, resmem-int8, naive-bayes and TF-IDF + logistic regression on the
test split, every setting chosen on val, and writes DIR/eval.json and DIR/report.html (default DIR:
out/eval/<dataset>). Each row has a 95% bootstrap interval of its accuracy and the ECE (15 bins), NLL and
Brier score of its scores; base and resmem report the calibrated scores the API returns.
--dataset makes the choices \`resmem build\` makes (--key as there, default auto); --memory scores a finished
build with its own choices, fitting the baselines on its train file (default: the manifest's train file
beside --test) and val file (default: val.jsonl beside --test).
--key-dims 192,128,64 adds int8 memories with keys PCA-projected to those dimensions (\`resmem build --key-dim\`).
With a served bundle (--memory DIR; with --dataset, artifacts/<dataset> when built), also: out-of-distribution
detection by novelty against max-softmax and energy (AUROC, FPR at 95% TPR; test split in, each --ood FILE out,
plus the shipped sets for spam and langid) and conformal coverage and mean set size on test.
--ood FILE      a JSONL file of texts unlike the training data (field "text"); may be repeated.`

/** Both on/off rules on val (kept: McNemar; recorded: expected gain), and what "on" did on test. */
export function ruleLine(result: EvalResult): string {
  const alt = result.decision.alternative!
  const on = result.memory === 'on' ? result.difference : result.differenceIfOn
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`
  const effect = on ? `; memory on, on test: ${pct(on.estimate)} points (${pct(on.low)} to ${pct(on.high)})` : ''
  return `on/off rules on val: McNemar (served) ${result.memory.toUpperCase()}, p = ${result.decision.pValue.toPrecision(3)}; expected gain ${alt.on ? 'ON' : 'OFF'}, ${alt.reason}${effect}`
}

export function formatTable(result: EvalResult): string {
  const header = ['method', 'accuracy', '95% interval', 'macro_f1', 'ece', 'nll', 'brier', 'memory_bytes', 'build_s', 'settings (val)']
  const last = header.length - 1
  const lines = result.rows.map((r) => [
    r.method,
    r.accuracy.toFixed(4),
    `${r.accuracy_low.toFixed(4)}-${r.accuracy_high.toFixed(4)}`,
    r.macro_f1.toFixed(4),
    r.ece.toFixed(4),
    r.nll.toFixed(4),
    r.brier.toFixed(4),
    String(r.memory_bytes),
    r.build_seconds.toFixed(1),
    Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' '),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i === last ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  const d = result.difference
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`
  return [
    `${result.dataset}: train ${result.examples.train}, val ${result.examples.val}, test ${result.examples.test}; memory key ${result.key}`,
    `memory ${result.memory.toUpperCase()} (decided on val): ${result.decision.reason}`,
    `score temperatures (fitted on val): memory ${result.calibration.memory}, base ${result.calibration.base}`,
    fmt(header),
    ...lines.map(fmt),
    `resmem-int8 - base on test: ${pct(d.estimate)} points (95% paired bootstrap ${pct(d.low)} to ${pct(d.high)})`,
    ...(result.differenceIfOn ? [`had the memory been on: ${pct(result.differenceIfOn.estimate)} points (${pct(result.differenceIfOn.low)} to ${pct(result.differenceIfOn.high)})`] : []),
    ...(result.decision.alternative ? [ruleLine(result)] : []),
  ].join('\n')
}

/** OOD and coverage rows of the bundle in `dir`: `test` in, each OOD file out ("a+b" joins files into one set). */
async function trustOf(dir: string, test: string, oods: readonly string[]): Promise<NonNullable<EvalResult['trust']>> {
  const classifier = await loadClassifier(dir)
  const outs = []
  for (const spec of oods) {
    const files = spec.split('+')
    const texts = (await Promise.all(files.map(readOodTexts))).flat()
    outs.push({ name: files.map((f) => basename(f, '.jsonl')).join('+'), texts })
  }
  const result = await evaluateTrust(classifier, await readLabelledJsonl(test), outs, PLOT_ALPHAS)
  return { result, threshold: classifier.bundle.manifest.locality?.novelty.threshold }
}

export function formatTrust(trust: NonNullable<EvalResult['trust']>): string[] {
  return [
    ...trust.result.ood.map((r) => `ood ${r.out} by ${r.score}: AUROC ${r.auroc.toFixed(3)}, FPR at 95% TPR ${(100 * r.fpr95).toFixed(1)}%${r.flagged === undefined ? '' : `; unfamiliar ${(100 * r.flagged).toFixed(1)}% of out, ${(100 * r.inFlagged!).toFixed(1)}% of test`}`),
    ...trust.result.coverage.filter((r) => r.label === 'all' && (r.alpha === 0.1 || r.alpha === 0.05)).map((r) => `conformal alpha ${r.alpha}: coverage ${(100 * r.coverage).toFixed(1)}% on test, mean set size ${r.meanSetSize.toFixed(3)}`),
  ]
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
      train: { type: 'string' },
      val: { type: 'string' },
      ood: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return console.log(HELP)
  let result: EvalResult
  if (values.dataset !== undefined) {
    if (!isDefaultDataset(values.dataset)) throw new CliError(`--dataset: "${values.dataset}" is not one of ${DEFAULT_DATASETS.join(', ')}`)
    const paths = await ensurePrepared(values.dataset)
    let key: KeySpec | 'auto' = 'auto'
    try {
      if (values.key !== undefined && values.key !== 'auto') key = parseKeySpec(values.key)
    } catch (err) {
      throw new CliError(`--key: ${(err as Error).message}`)
    }
    const keyDims = values['key-dims']?.split(',').map(Number)
    if (keyDims?.some((d) => !Number.isInteger(d) || d < 1)) throw new CliError(`--key-dims: expected positive integers separated by commas, got "${values['key-dims']}"`)
    result = await evaluate({ dataset: values.dataset, model: paths.model, train: paths.train, val: paths.val, test: paths.test, key, keyDims })
    const oods = [...shippedOod(values.dataset), ...(values.ood ?? [])]
    if (existsSync(join(paths.artifacts, 'manifest.json'))) result.trust = await trustOf(paths.artifacts, paths.test, oods)
    else console.log(`${paths.artifacts}: not built, no novelty or coverage rows (npx tsx scripts/resmem.ts build-defaults --only ${values.dataset})`)
  } else if (values.model && values.memory && values.test) {
    result = await evaluateBuild(values.model, values.memory, values.test, { train: values.train, val: values.val })
    result.trust = await trustOf(values.memory, values.test, values.ood ?? [])
  } else throw new CliError(`give --dataset, or --model, --memory and --test\n\n${HELP}`)

  const out = values.out ?? join('out', 'eval', result.dataset)
  await mkdir(out, { recursive: true })
  const json = {
    dataset: result.dataset,
    key: result.key,
    memory: result.memory,
    decision: result.decision,
    calibration: result.calibration,
    examples: result.examples,
    rows: result.rows,
    resmem_minus_base: { accuracy: result.difference.estimate, low: result.difference.low, high: result.difference.high },
    ...(result.differenceIfOn ? { resmem_if_on_minus_base: { accuracy: result.differenceIfOn.estimate, low: result.differenceIfOn.low, high: result.differenceIfOn.high } } : {}),
  }
  const trust = result.trust ? { ood: result.trust.result.ood, coverage: result.trust.result.coverage, noveltyThreshold: result.trust.threshold } : undefined
  await writeFile(join(out, 'eval.json'), JSON.stringify({ ...json, ...(trust ? { trust } : {}) }, null, 2) + '\n')
  await writeFile(join(out, 'report.html'), renderReport(result))
  console.log(formatTable(result))
  if (result.trust) console.log(formatTrust(result.trust).join('\n'))
  console.log(`wrote ${join(out, 'eval.json')} and ${join(out, 'report.html')}`)
}
