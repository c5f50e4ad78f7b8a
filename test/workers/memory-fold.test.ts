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
import { MANIFEST_VERSION, MEMORY_LABELS_VERSION, Manifest as ManifestSchema, parseManifest, type Manifest } from '../../src/memory/manifest.ts'
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

  it('a log with a memory label folds into a bundle that lists it and answers as before; a reader of version 1 refuses it', async () => {
    const served = isolate({ MEMORY_SYNC_MS: '0' })
    const meetings = ['Can we move our meeting to Thursday at 3pm?', 'Meeting moved to Friday 10am, room 4', 'Reminder: team meeting tomorrow at 9 in the small room']
    expect((await served.request('/v1/labels', { method: 'POST', headers: AUTH, body: JSON.stringify({ label: 'fold-meeting' }) })).status).toBe(201)
    const taught = await served.learn([...meetings.map((text) => ({ text, label: 'fold-meeting' })), { text: 'lunch on friday?', label: 'ham' }])
    // A label removed before the fold leaves no trace in the bundle (its rows forgotten first).
    expect((await served.request('/v1/labels', { method: 'POST', headers: AUTH, body: JSON.stringify({ label: 'fold-gone' }) })).status).toBe(201)
    await served.learn([{ text: 'gone label text', label: 'fold-gone' }])
    expect((await served.request('/v1/labels/fold-gone', { method: 'DELETE', headers: AUTH })).status).toBe(200)

    const exported = await served.request('/v1/memory/export', { headers: AUTH })
    const log = parseEditsFile(new TextDecoder().decode(await exported.arrayBuffer()), 'edits.jsonl')
    const files = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
    const manifest = manifestOf(files)
    const folded = foldEdits(await readMemory(files.get('memory.bin')!), log.ops, manifest.memory.sha256, { log: log.header.log })
    const memoryLabels = (await (await served.request('/v1/labels', { headers: AUTH })).json()) as { labels: { label: string; source: string }[] }
    expect(folded.memoryLabels).toEqual(memoryLabels.labels.filter((l) => l.source === 'memory').map((l) => l.label))
    expect(folded.memoryLabels).toContain('fold-meeting')
    expect(folded.memoryLabels).not.toContain('fold-gone')
    expect(folded.memory.labels).toEqual([...manifest.labels, ...folded.memoryLabels!])
    // What `resmem build --edits` writes for it (scripts/build/pipeline.ts).
    const foldedFiles = editJson<Manifest>(await withMemory(files, folded.memory), 'manifest.json', (m) => {
      m.edits = folded.edits
      m.memoryLabels = folded.memoryLabels
      m.version = MEMORY_LABELS_VERSION
      m.requires = ['memory-labels']
    })
    const rebuilt = isolate({ MEMORY_SYNC_MS: '0' }, { loader: (e, s) => loadServedModel(sourceOf(foldedFiles), e, s) })
    expect(await (await rebuilt.request('/v1/labels', { headers: AUTH })).json()).toEqual(memoryLabels)

    const texts = [...meetings, 'Can we move our meeting to Thursday at 4pm?', 'lunch on friday?', SPAM, 'see you at the gym tonight?']
    const compare = async () => {
      for (const text of texts) expect(await rebuilt.classify(text), text).toEqual(await served.classify(text))
    }
    await compare()
    expect((await rebuilt.classify(meetings[0])).label).toBe('fold-meeting')
    // After the fold, removing the label forgets its folded rows as well as live ones, in both.
    const removed = await rebuilt.request('/v1/labels/fold-meeting', { method: 'DELETE', headers: AUTH })
    expect(await removed.json()).toEqual({ label: 'fold-meeting', forgotten: 3 })
    await compare()
    expect((await rebuilt.classify(meetings[0])).scores.map((s) => s.label)).not.toContain('fold-meeting')
    expect(taught.ids).toHaveLength(4)

    // A reader of version 1 (the manifest schema and memory.bin label check before memory labels) refuses it, by the version.
    const written = manifestOf(foldedFiles)
    const v1 = ManifestSchema.extend({ version: ManifestSchema.shape.version.options[0] }).safeParse(written)
    expect(v1.success).toBe(false)
    expect(v1.error!.issues[0].path).toEqual(['version'])
    expect(ManifestSchema.shape.version.options[0].value).toBe(MANIFEST_VERSION)
    expect(folded.memory.labels).not.toEqual(written.labels)
    // This reader names what it lacks, for a requirement it does not know.
    expect(() => parseManifest({ ...written, requires: ['memory-labels', 'future-thing'] })).toThrow(/requires.*needs a reader that knows more than memory-labels/)
    expect(() => parseManifest({ ...written, version: MANIFEST_VERSION })).toThrow(/memoryLabels has version 2/)
  })
})
