// docs/pipeline.md's "## The pipeline" commands, run as written in a temporary folder laid out like a clone
// (the repository's code and node_modules linked in, models read from it, data/ artifacts/ out/ its own), on a
// slice of the spam data where the full run is too slow. A command marked "(not run by the tests)" in its
// comment is skipped; every other one must succeed and write what it says. Nothing is written into the repository.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../scripts/package/build.ts'
import { formatJsonl, readLabelledJsonl } from '../../scripts/data/index.ts'
import { consumerEnv, sh } from './shell.ts'

const PAGE = join(ROOT, 'docs', 'pipeline.md')
const NOT_RUN = '(not run by the tests'
/** The spam slices the build and evals run on (each with both labels). */
const SLICES = { train: 48, val: 24, test: 24 }

/** The commands of the first ```sh block under "## The pipeline". */
function pipelineCommands(page = readFileSync(PAGE, 'utf8')): string[] {
  const start = page.indexOf('\n## The pipeline\n')
  if (start < 0) throw new Error(`${PAGE}: no "## The pipeline" section`)
  const block = /```sh\n([\s\S]*?)```/.exec(page.slice(start))
  if (!block) throw new Error(`${PAGE}: no sh block under "## The pipeline"`)
  return block[1].split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
}

let dir: string

async function sliceSpam(): Promise<void> {
  for (const [split, n] of Object.entries(SLICES)) {
    const file = join(dir, 'data', 'spam', `${split}.jsonl`)
    const rows = await readLabelledJsonl(file)
    writeFileSync(file, formatJsonl([...rows.filter((r) => r.label === 'spam').slice(0, n / 4), ...rows.filter((r) => r.label === 'ham').slice(0, n - n / 4)]))
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'resmem-pipeline-'))
  for (const linked of ['node_modules', 'scripts', 'src', 'workers', 'wasm', 'models']) symlinkSync(join(ROOT, linked), join(dir, linked))
  for (const copied of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, copied), join(dir, copied))
  // The CSV the `prepare --input` line names: a user's file with its own field names.
  const rows = readFileSync(join(ROOT, 'data', 'spam', 'test.jsonl'), 'utf8').trim().split('\n').slice(0, 60).map((l) => JSON.parse(l) as { text: string; label: string })
  writeFileSync(join(dir, 'reviews.csv'), ['body,stars', ...rows.map((r) => `"${r.text.slice(0, 200).replaceAll('"', '""')}",${r.label === 'spam' ? 1 : 5}`)].join('\n') + '\n')
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe("docs/pipeline.md's commands", () => {
  it('each is run here or marked "(not run by the tests)"; those run succeed on a slice of the spam data', async () => {
    const commands = pipelineCommands()
    expect(commands.length).toBeGreaterThan(5)
    const ran: string[] = []
    for (const command of commands) {
      if (command.includes(NOT_RUN)) continue
      await sh(command, dir, consumerEnv(), 240_000)
      ran.push(command)
      // After the data is prepared, the rest runs on a slice of it.
      if (/ prepare spam\b/.test(command)) await sliceSpam()
    }
    // What they wrote, in the folder and nowhere else.
    expect(ran.some((c) => / prepare spam\b/.test(c))).toBe(true)
    expect(readFileSync(join(dir, 'data', 'langid', 'train.jsonl'), 'utf8').split('\n').length).toBeGreaterThan(1000)
    expect(existsSync(join(dir, 'data', 'reviews', 'train.jsonl'))).toBe(true)
    const manifest = JSON.parse(readFileSync(join(dir, 'artifacts', 'spam', 'manifest.json'), 'utf8'))
    expect(manifest.memory.rows).toBe(SLICES.train)
    const byDataset = JSON.parse(readFileSync(join(dir, 'out', 'eval', 'spam', 'eval.json'), 'utf8'))
    expect(byDataset.examples).toEqual({ train: SLICES.train, val: SLICES.val, test: SLICES.test })
    expect(ran.filter((c) => c.startsWith('npm run eval -- --model'))).toHaveLength(1)
  }, 600_000)
})
