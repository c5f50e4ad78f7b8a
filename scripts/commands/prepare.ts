/**
 * `resmem prepare`: turn a labelled dataset into data/<name>/{train,val,test}.jsonl + info.json.
 * Built-ins: `spam` (SpamAssassin corpus) and `langid` (UDHR paragraphs); or any JSONL/CSV file via --input.
 */
import { readFile } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { CliError, locate } from '../cli/errors.ts'
import {
  DEFAULT_SEED, DEFAULT_SPLIT, LANGUAGES, SPLIT_NAMES, dedupe, loadLangid, loadSpam, parseSeed, parseSplit,
  readUserFile, sha256, stratifiedSplit, writeDataset, type DatasetInfo, type LabelledExample,
} from '../data/index.ts'

const USAGE = `usage:
  resmem prepare spam   [--out DIR] [--seed N] [--split TRAIN,VAL,TEST]
  resmem prepare langid [--out DIR] [--seed N] [--split TRAIN,VAL,TEST]
  resmem prepare --input FILE [--text-field text] [--label-field label] [--out DIR] [--seed N] [--split ...]

Writes DIR/{train,val,test}.jsonl (one {"text","label"} per line) and DIR/info.json.

  spam            SpamAssassin public corpus (ham/spam), headers stripped, Subject + body kept
  langid          UDHR paragraphs in ${LANGUAGES.length} Latin-script languages (label = language code)
  --input FILE    your own labelled .jsonl/.ndjson or .csv (with a header row)
  --text-field    column/key holding the text (default "text")
  --label-field   column/key holding the label, a string or number (default "label")
  --out DIR       output folder (default data/<dataset>, for --input data/<file name>)
  --seed N        shuffle seed, an integer (default ${DEFAULT_SEED}); same seed, same files
  --split F,F,F   train,val,test fractions summing to 1 (default ${DEFAULT_SPLIT.join(',')})

Rows are de-duplicated on case- and space-normalised text (the first copy is kept), then split per label
so each split keeps the label proportions. Each label needs one example per non-empty split.`

export async function run(argv: string[]): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        input: { type: 'string' },
        'text-field': { type: 'string', default: 'text' },
        'label-field': { type: 'string', default: 'label' },
        out: { type: 'string' },
        seed: { type: 'string' },
        split: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (err) {
    throw new CliError(`prepare: ${(err as Error).message}\n\n${USAGE}`)
  }
  const { values, positionals } = parsed
  if (values.help) {
    console.log(USAGE)
    return
  }
  const seed = values.seed === undefined ? DEFAULT_SEED : parseSeed(values.seed)
  const fractions = values.split === undefined ? DEFAULT_SPLIT : parseSplit(values.split)
  if (positionals.length > 1 || (positionals.length === 1) === (values.input !== undefined)) {
    throw new CliError(`prepare: give one dataset name (spam | langid) or --input FILE\n\n${USAGE}`)
  }

  let dataset: string
  let examples: LabelledExample[]
  let source: Record<string, string>
  let details: Record<string, unknown>
  if (values.input !== undefined) {
    const file = values.input
    const fields = { textField: values['text-field'], labelField: values['label-field'] }
    const result = dedupe(await readUserFile(file, fields))
    dataset = basename(file, extname(file))
    examples = result.examples
    source = { file: basename(file), sha256: sha256(await readFile(file)), ...fields }
    details = { duplicates: result.duplicates, conflictingDuplicates: result.conflicts }
  } else if (positionals[0] === 'spam' || positionals[0] === 'langid') {
    dataset = positionals[0]
    const loaded = dataset === 'spam' ? loadSpam({ quiet: values.quiet }) : loadLangid()
    examples = loaded.examples
    source = { package: loaded.source.name, version: loaded.source.version }
    details = { ...loaded.stats }
    if (dataset === 'langid') details.languages = LANGUAGES.map((l) => ({ label: l.label, udhr: l.file }))
  } else {
    throw new CliError(`prepare: unknown dataset "${positionals[0]}" (built-ins: spam, langid; or use --input FILE)`)
  }

  let splits
  try {
    splits = stratifiedSplit(examples, fractions, seed)
  } catch (err) {
    // For a user file, say which file the rare labels are in.
    if (err instanceof CliError && values.input !== undefined) throw new CliError(locate(values.input, undefined, undefined, err.message))
    throw err
  }
  const out = values.out ?? join('data', dataset)
  const info = await writeDataset(out, splits, { dataset, source, seed, fractions, details })
  if (!values.quiet) console.log(summary(out, info))
}

function summary(out: string, info: DatasetInfo): string {
  const lines = [`${info.dataset}: wrote ${out}/{${SPLIT_NAMES.join(',')}}.jsonl and info.json (seed ${info.seed})`]
  for (const name of SPLIT_NAMES) {
    const counts = info.counts[name]
    const total = Object.values(counts).reduce((a, b) => a + b, 0)
    const perLabel = info.labels.length <= 8 ? ` (${info.labels.map((l) => `${l} ${counts[l]}`).join(', ')})` : ` across ${info.labels.length} labels`
    lines.push(`  ${name.padEnd(5)} ${String(total).padStart(6)}${perLabel}  sha256 ${info.sha256[name].slice(0, 16)}…`)
  }
  return lines.join('\n')
}
