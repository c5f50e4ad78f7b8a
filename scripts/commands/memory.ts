import { rename, rm, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { EditsFileError, parseEditsFile } from '../../src/memory/edits-file.ts'
import { CliError } from '../cli/errors.ts'

const HELP = `usage: resmem memory pull --url URL --out FILE [--token TOKEN]

Saves a deployed worker's edit log (GET /v1/memory/export: the examples learned with POST /v1/memory and the
rows forgotten with DELETE /v1/memory/{id}) as JSONL, to fold into a new build with
\`resmem build ... --edits FILE\`.

  --url URL       the worker, e.g. https://resmem.example.workers.dev (or http://127.0.0.1:8787 for wrangler dev)
  --token TOKEN   its API_TOKEN; default: the RESMEM_API_TOKEN environment variable (kept out of shell history)
  --out FILE      where to write edits.jsonl (written whole once checked, never half)`

export async function pull(url: string, token: string, out: string): Promise<{ entries: number; version: number; learned: number; forgotten: number }> {
  let endpoint: URL
  try {
    endpoint = new URL('/v1/memory/export', url)
  } catch {
    throw new CliError(`--url: "${url}" is not a URL (e.g. https://resmem.example.workers.dev)`)
  }
  let res: Response
  try {
    res = await fetch(endpoint, { headers: { authorization: `Bearer ${token}` } })
  } catch (err) {
    throw new CliError(`${endpoint}: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}`)
  }
  const text = await res.text()
  if (!res.ok) {
    let message = text.slice(0, 300)
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message
    } catch {
      // not the worker's JSON error: show the start of the body
    }
    throw new CliError(`${endpoint}: HTTP ${res.status}: ${message}`)
  }
  let parsed: ReturnType<typeof parseEditsFile>
  try {
    parsed = parseEditsFile(text, String(endpoint))
  } catch (err) {
    if (err instanceof EditsFileError) throw new CliError(`the export is not a valid edit log: ${err.message}`)
    throw err
  }
  const tmp = `${out}.tmp-${process.pid}`
  try {
    await writeFile(tmp, text)
    await rename(tmp, out)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new CliError(`--out ${out}: cannot be written (${(err as Error).message})`)
  }
  const learned = new Set<number>()
  let forgotten = 0
  for (const op of parsed.ops) {
    if (op.op === 'add') learned.add(op.version)
    else if (op.op === 'label') continue
    else if (op.target.kind === 'edit') learned.delete(op.target.id)
    else forgotten++
  }
  return { entries: parsed.entries.length, version: parsed.header.version, learned: learned.size, forgotten }
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, token: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  })
  if (values.help) return console.log(HELP)
  const [action, ...extra] = positionals
  if (action !== 'pull' || extra.length) throw new CliError(`${action ? `unknown action "${[action, ...extra].join(' ')}"` : 'missing action'}\n\n${HELP}`)
  for (const flag of ['url', 'out'] as const) if (!values[flag]) throw new CliError(`missing --${flag}\n\n${HELP}`)
  const token = values.token ?? process.env.RESMEM_API_TOKEN
  if (!token) throw new CliError('missing --token (or the RESMEM_API_TOKEN environment variable): the edit log needs the worker\'s API_TOKEN')
  const r = await pull(values.url!, token, values.out!)
  console.log(`wrote ${values.out}: ${r.entries} log entries up to version ${r.version} (${r.learned} learned examples, ${r.forgotten} built rows forgotten)`)
  console.log(`fold them into a build with: resmem build --model ... --train ... --val ... --out ... --edits ${values.out}`)
}
