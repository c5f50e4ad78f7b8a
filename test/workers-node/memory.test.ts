// The edit log end to end, with the real worker under wrangler dev (workerd) and the real CLI commands:
//  - a small bundle is built from 300 training mails (`resmem build`), learned examples are POSTed (50 at once),
//    one forgotten, a built row hidden;
//  - `resmem memory pull` saves the log; the worker process is stopped (every object and isolate gone);
//  - `resmem build ... --edits` folds the log into the bundle, and the worker starts again on the same storage:
//    the log holds everything acknowledged before the stop, and every answer (explanations included) is the
//    same as before the fold; new writes continue the log. A label added to the memory (POST /v1/labels) and
//    taught folds in too: the manifest lists it (version 2, requires ["memory-labels"]) and it answers as before.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/memory/manifest.ts'
import type { Classification } from '../../src/types.ts'
import { run as build } from '../../scripts/commands/build.ts'
import { run as memory } from '../../scripts/commands/memory.ts'
import { startWorker, type StartedWorker } from './worker.ts'

const TOKEN = 'rsm_test_memory_node_0123456789'
const AUTH = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
const dir = mkdtempSync(join(tmpdir(), 'resmem-memory-'))
const assets = join(dir, 'assets')
const bundle = join(assets, 'small')
const persist = join(dir, 'state')
const edits = join(dir, 'edits.jsonl')
const lines = (file: string, n: number) => readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, n).join('\n') + '\n'
const buildArgs = ['--model', 'models/spam', '--train', join(dir, 'train.jsonl'), '--val', join(dir, 'val.jsonl'), '--out', bundle, '--name', 'small', '--k', '8', '--sigma', '5', '--temperature', '0.25', '--key', 'penultimate', '--memory', 'off', '--cpu-budget-ms', 'off']
const NOTES = ['hi', 'Hi Tom, can we move our meeting to Thursday?', 'running 10 min late, save me a seat', 'thanks for lunch yesterday!', 'call me when you land']
const SPAM = 'URGENT! You have won a guaranteed $5000 cash prize. Click now to collect, offer expires tonight.'

let worker: StartedWorker | undefined
let url: URL

async function start(): Promise<void> {
  const started = await startWorker({ MODEL: 'small', MEMORY_SYNC_MS: '0', MEMORY_WRITES_PER_MINUTE: '0' }, { assets, persist, secrets: { API_TOKEN: TOKEN } })
  worker = started.worker
  url = started.url
}

async function call<T>(path: string, init: RequestInit = {}, status = 200): Promise<T> {
  const res = await fetch(new URL(path, url), { ...init, headers: AUTH })
  const text = await res.text()
  if (res.status !== status) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`)
  return JSON.parse(text) as T
}

const classify = (text: string) => call<Classification>('/v1/classify?explain=1', { method: 'POST', body: JSON.stringify({ text }) })
const texts = [...NOTES, SPAM, ...Array.from({ length: 50 }, (_, i) => `note number ${i}: see you at ${i % 12} o'clock`)]
const MEETINGS = ['Can we move our meeting to Thursday at 3pm?', 'Meeting moved to Friday 10am, room 4']

beforeAll(async () => {
  writeFileSync(join(dir, 'train.jsonl'), lines('data/spam/train.jsonl', 300))
  writeFileSync(join(dir, 'val.jsonl'), lines('data/spam/val.jsonl', 100))
  await build(buildArgs)
  await start()
})

afterAll(async () => {
  await worker?.dispose()
  rmSync(dir, { recursive: true, force: true })
})

describe('the edit log under wrangler dev: restart durability and folding with the CLI', () => {
  it('keeps every acknowledged write across a restart; a build with the log folded in answers the same', async () => {
    // 50 concurrent writes, all acknowledged with distinct ids.
    const posted = await Promise.all(texts.slice(6).map((text, i) => call<{ ids: string[] }>('/v1/memory', { method: 'POST', body: JSON.stringify({ examples: [{ text, label: i % 3 ? 'ham' : 'spam' }] }) }, 201)))
    expect(new Set(posted.map((p) => p.ids[0])).size).toBe(50)
    const notes = await call<{ ids: string[] }>('/v1/memory', { method: 'POST', body: JSON.stringify({ examples: NOTES.map((text) => ({ text, label: 'ham' })) }) }, 201)
    await call(`/v1/memory/${notes.ids[1]}`, { method: 'DELETE' })
    // The built memory is off (as val turns it off for the shipped builds): ?k=8 asks for its rows.
    const hidden = (await call<Classification>('/v1/classify?explain=1&k=8', { method: 'POST', body: JSON.stringify({ text: SPAM }) })).neighbors!.find((n) => n.source === 'built')!.row
    await call(`/v1/memory/base:${hidden}`, { method: 'DELETE' })
    await call('/v1/labels', { method: 'POST', body: JSON.stringify({ label: 'meeting' }) }, 201)
    await call('/v1/memory', { method: 'POST', body: JSON.stringify({ examples: MEETINGS.map((text) => ({ text, label: 'meeting' })) }) }, 201)
    const log = await call<{ version: number; live: number; entries: unknown[] }>('/v1/memory?limit=1000')
    expect(log.live).toBe(50 + NOTES.length - 1 + MEETINGS.length)
    texts.push(...MEETINGS)
    const answers = await Promise.all(texts.map(classify))
    // (This small build's penultimate keys put many built rows at similarity 1 of a short note, so a taught note
    // need not be among its 8 nearest: what is checked here is that the fold answers exactly as the log did.)
    expect(answers.at(-1)!.scores.map((s) => s.label)).toContain('meeting')
    const labels = await call('/v1/labels')
    // The learned examples serve with the built memory off: each learned text is answered by its own row.
    expect(answers.filter((a) => a.neighbors!.some((n) => n.source === 'edit')).length).toBeGreaterThan(25)

    await memory(['pull', '--url', url.origin, '--token', TOKEN, '--out', edits])
    await worker!.dispose()
    worker = undefined

    await build([...buildArgs, '--edits', edits])
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as Manifest
    expect(manifest.edits?.version).toBe(log.version)
    expect(manifest.memory.rows).toBe(300 - 1 + 50 + NOTES.length - 1 + MEETINGS.length)
    expect(manifest).toMatchObject({ version: 2, requires: ['memory-labels'], memoryLabels: ['meeting'], labels: ['ham', 'spam'] })

    await start()
    expect(await call('/v1/memory?limit=1000')).toEqual(log)
    expect(((await call<Manifest>('/v1/model')).edits)?.version).toBe(log.version)
    expect(await call('/v1/labels')).toEqual(labels)
    const folded = await Promise.all(texts.map(classify))
    folded.forEach((answer, i) => expect(answer, texts[i]).toEqual(answers[i]))
    const after = await call<{ version: number }>('/v1/memory', { method: 'POST', body: JSON.stringify({ examples: [{ text: 'after the fold', label: 'ham' }] }) }, 201)
    expect(after.version).toBe(log.version + 1)
  })

  it('`resmem build --edits` refuses a log of another model before embedding anything, naming the file and field', async () => {
    const other = join(dir, 'other.jsonl')
    const [header] = readFileSync(edits, 'utf8').split('\n')
    writeFileSync(other, JSON.stringify({ ...JSON.parse(header), model: '0'.repeat(64) }) + '\n')
    await expect(build([...buildArgs, '--out', join(dir, 'refused'), '--edits', other])).rejects.toThrow(/other\.jsonl: line 1: field "model": the edits were encoded by model 000000000000…/)
    writeFileSync(other, [header, '{"version": 1, "op": "add"}'].join('\n'))
    await expect(build([...buildArgs, '--out', join(dir, 'refused'), '--edits', other])).rejects.toThrow(/other\.jsonl: line 2: field "model"/)
  })
})
