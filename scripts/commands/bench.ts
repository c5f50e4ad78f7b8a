import { existsSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CliError } from '../cli/errors.ts'
import { formatBench, renderHtml } from '../bench/report.ts'
import { SECTIONS, type Section } from '../bench/result.ts'
import { runBench } from '../bench/run.ts'
import { DEFAULT_HOLD_OUT, holdOut, parseHoldOut } from '../bench/new-label/hold-out.ts'
import { ROOT } from '../../workers/scripts/build.ts'

const HELP = `usage: resmem bench [--out DIR] [--quick] [--only SECTIONS] [--model NAME] [--rows N]

Benchmarks, on this machine, and writes DIR/bench.json and DIR/report.html (default DIR: out/bench):
  kernel   k-NN kernel GB/s (SIMD wasm, scalar wasm, TypeScript reference) in Node and in workerd
  latency  the worker over loopback: base model (?k=0) vs full ResMem, p50/p99, with artifacts/NAME's memory
           and with a synthetic N-row memory (staged in DIR/work, never in workers/build)
  node     in-process Node: our library (k=0 and full) vs a transformers.js pipeline on the same model
  load     autocannon at 1, 4 and 16 connections against the worker and node:http servers (ours, transformers.js)
  memory   live edits: classify p50/p99 with 0, 1k and 10k learned rows (ratio to none), POST /v1/memory p50
           for 1 and 32 examples
  learning learning at the edge (spam): casual notes learned and forgotten, spam test accuracy before/after; a
           memory of half the training split plus the other half POSTed vs the full build (--quick: notes only)
  poisoning 100 spam test texts each learned with the wrong label, one at a time: how many other test answers
           change (max, p99, median), the served memory's own decision (--quick: 20)
  scale    synthetic memories in parts (100,000 x 384 in one isolate; 300,000 and 1,000,000 x 128 over 1, 2, 4
           and 8 Durable Object shards; --quick: smaller): latency ratio, isolate memory, top-k identical to the
           single scan; also written to DIR/scale.json
  cpu      CPU per classify call on the worker's code path (fp32, int8, and budget-10: the int8 bundle at the
           max length \`resmem build --cpu-budget-ms 10\` chooses on val, with its test accuracy); cost per
           million classifications from it and Cloudflare's published prices; also written to DIR/cpu.json

  new-label on langid, a base trained and built without the --hold-out languages (train and build timed, reused
           from DIR/work-new-label when unchanged), then n = 1, 2, 5, 10, 20, 50 sentences per held-out language
           taught through the worker's labels and memory APIs; rows for resmem, knn, tfidf-lr and (not with
           --quick) the base retrained at n = 20; also written to DIR/new-label.json

  --quick          about a minute: fewer batches, texts and seconds (a default run takes about 4 minutes)
  --only LIST      comma-separated sections (default: all): ${SECTIONS.join(',')}
  --model NAME     bundle artifacts/NAME and texts data/NAME/test.jsonl (default spam)
  --rows N         rows of the synthetic memory (default 100000; written in parts of at most 24 MiB)
  --hold-out LIST  new-label: comma-separated langid labels held out of the base (default ${DEFAULT_HOLD_OUT.join(',')})
Timings depend on the machine and its load: compare ratios measured in the same run.`

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      model: { type: 'string' },
      rows: { type: 'string' },
      'hold-out': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return console.log(HELP)
  const sections = (values.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim())
  for (const s of sections) if (!SECTIONS.includes(s as Section)) throw new CliError(`--only: "${s}" is not one of ${SECTIONS.join(', ')}`)
  const rows = Number(values.rows ?? 100_000)
  if (!Number.isInteger(rows) || rows < 1 || rows > 1_000_000) throw new CliError(`--rows: want an integer in 1..1000000, got "${values.rows}"`)
  const model = values.model ?? 'spam'
  if (!/^[\w][\w.-]*$/.test(model)) throw new CliError(`--model: "${model}" is not a bundle folder name`)
  const out = values.out ?? join('out', 'bench')
  const held = parseHoldOut(values['hold-out'])
  const langidInfo = join(ROOT, 'data', 'langid', 'info.json')
  // A typo in --hold-out should stop the run now, not after the worker build.
  if (sections.includes('new-label') && existsSync(langidInfo)) {
    try {
      holdOut([], held, (JSON.parse(readFileSync(langidInfo, 'utf8')) as { labels: string[] }).labels)
    } catch (err) {
      throw new CliError((err as Error).message)
    }
  }

  const result = await runBench({ out, quick: values.quick ?? false, sections: sections as Section[], model, artifacts: process.env.RESMEM_ARTIFACTS || 'artifacts', syntheticRows: rows, holdOut: held })
  await mkdir(out, { recursive: true })
  await writeFile(join(out, 'bench.json'), JSON.stringify(result, null, 2) + '\n')
  await writeFile(join(out, 'report.html'), renderHtml(result))
  if (result.scale) await writeFile(join(out, 'scale.json'), JSON.stringify({ rows: result.scale.rows, failed: result.scale.failed ?? [], model: result.scale.model, texts: result.scale.texts, notes: result.scale.notes }, null, 2) + '\n')
  console.log(formatBench(result))
  console.log(`\nwrote ${join(out, 'bench.json')} and ${join(out, 'report.html')}`)
  // Missed targets are findings, not errors; a section that could not run is.
  if (result.failures.length) process.exitCode = 1
}
