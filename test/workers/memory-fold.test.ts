// Folding the edit log into a build, served by the real worker in workerd: the export of the log folded into
// the staged bundle's memory (src/memory/fold.ts, what `resmem build --edits` writes) serves the same answers
// as the built memory plus the log, explanations and ids included; the worker skips the entries the build
// holds, and edits written after the fold apply to both alike.
import { describe, expect, it } from 'vitest'
// First: the app imports @hono/zod-openapi, which must extend zod before src/ creates its schemas (zod 4
// attaches methods per schema, so .openapi() exists only on schemas made after the extension).
import { AUTH, NOTES, isolate } from './memory-helpers.ts'
import { readMemory } from '../../src/memory/format.ts'
import { parseEditsFile } from '../../src/memory/edits-file.ts'
import { foldEdits } from '../../src/memory/fold.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import { loadServedModel } from '../../workers/classifier.ts'
import { editJson, manifestOf, readFiles, sourceOf, withMemory } from './bundle-files.ts'
import { MODEL, env } from './helpers.ts'

const SPAM = 'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!'

describe('a build with the log folded in answers as the built memory plus the log', () => {
  it('same answers, neighbours and ids before and after folding; later edits apply to both', async () => {
    const served = isolate({ MEMORY_SYNC_MS: '0' })
    const learned = await served.learn(NOTES.map((text, i) => ({ text, label: i === 4 ? 'spam' : 'ham' })))
    expect((await served.forget(learned.ids[3])).status).toBe(200)
    const hidden = (await served.classify(SPAM)).neighbors!.find((n) => n.source === 'built')!.row!
    expect((await served.forget(`base:${hidden}`)).status).toBe(200)

    // What `resmem memory pull` saves and `resmem build --edits` folds.
    const exported = await served.request('/v1/memory/export', { headers: AUTH })
    const log = parseEditsFile(new TextDecoder().decode(await exported.arrayBuffer()), 'edits.jsonl')
    const files = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
    const manifest = manifestOf(files)
    const base = await readMemory(files.get('memory.bin')!)
    const folded = foldEdits(base, log.ops, manifest.memory.sha256, { log: log.header.log })
    expect(folded.learned).toBe(NOTES.length - 1)
    expect(folded.forgottenBase).toBe(1)
    expect(folded.edits.version).toBe(log.header.version)
    const foldedFiles = editJson<Manifest>(await withMemory(files, folded.memory), 'manifest.json', (m) => void (m.edits = folded.edits))
    const rebuilt = isolate({ MEMORY_SYNC_MS: '0' }, { loader: (e, s) => loadServedModel(sourceOf(foldedFiles), e, s) })
    expect(((await (await rebuilt.request('/v1/model', { headers: AUTH })).json()) as Manifest).memory.rows).toBe(base.rows - 1 + NOTES.length - 1)

    const texts = [...NOTES, SPAM, 'see you at the gym tonight?', 'URGENT: verify your account password now']
    const compare = async () => {
      for (const text of texts) expect(await rebuilt.classify(text), text).toEqual(await served.classify(text))
    }
    await compare()
    // A learned example shows once (folded), not twice (folded and again from the log).
    const own = (await rebuilt.classify(NOTES[0])).neighbors!.filter((n) => n.id === learned.ids[0])
    expect(own).toHaveLength(1)

    // After the fold: a new example, a folded example forgotten, another built row hidden; through either isolate.
    const later = await rebuilt.learn([{ text: 'lunch at noon tomorrow?', label: 'ham' }])
    expect(later.version).toBe(log.header.version + 1)
    expect((await rebuilt.forget(learned.ids[1])).status).toBe(200)
    expect((await served.forget(learned.ids[1])).status).toBe(404)
    // A learned text answers with its learned row alone (src/resmem/locality.ts): another built row from a mail.
    const other = (await served.classify('URGENT: verify your account password now')).neighbors!.find((n) => n.source === 'built')!.row!
    expect((await served.forget(`base:${other}`)).status).toBe(200)
    expect((await rebuilt.forget(`base:${other}`)).status).toBe(404)
    expect((await rebuilt.forget(`base:${hidden}`)).status).toBe(404)
    texts.push('lunch at noon tomorrow?')
    await compare()
    expect((await rebuilt.classify(NOTES[1])).neighbors!.map((n) => n.id)).not.toContain(learned.ids[1])
  })
})
