// Model changes, against the real worker in workerd: a deployment serving another memory (here the staged
// bundle with its keys at another key scale, so every stored row must be encoded again) continues the edit
// log of the one before it. The entries are re-embedded by the new deployment in batches, resumably (an
// eviction in the middle loses nothing and repeats nothing), before they serve; the old log is sealed.
import { abortAllDurableObjects } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
// First: the app imports @hono/zod-openapi, which must extend zod before src/ creates its schemas.
import { AUTH, NOTES, faulty, isolate, type Fault } from './memory-helpers.ts'
import { loadBundle } from '../../src/bundle/load.ts'
import { ResMemClassifier } from '../../src/classifier.ts'
import { readMemory, type ResidualMemory } from '../../src/memory/format.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import { loadServedModel } from '../../workers/classifier.ts'
import { simdIndex } from '../../workers/knn.ts'
import { MemorySync } from '../../workers/memory/index.ts'
import { logName } from '../../workers/objects/edit-log.ts'
import { workerdOrt } from '../../workers/ort.ts'
import { editJson, readFiles, sourceOf, withMemory, type BundleFiles } from './bundle-files.ts'
import { MODEL, env } from './helpers.ts'

/** The memory with its int8 keys quantized again at `factor` times the key scale: the same rows, other bytes. */
function rescaled(memory: ResidualMemory, factor: number): ResidualMemory {
  const keys = memory.keys
  if (keys.dtype !== 'int8') throw new Error('int8 memory expected')
  const scale = Math.fround(keys.scale * factor)
  const data = Int8Array.from(keys.data, (q) => Math.max(-127, Math.min(127, Math.round((q * keys.scale) / scale))))
  return { ...memory, keys: { dtype: 'int8', data, scale } }
}

async function variant(files: BundleFiles, factor: number, train?: string): Promise<BundleFiles> {
  const next = await withMemory(files, rescaled(await readMemory(files.get('memory.bin')!), factor))
  return train ? editJson<Manifest>(next, 'manifest.json', (m) => void (m.data.train.sha256 = train)) : next
}

const log = (files: BundleFiles) => {
  const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json'))) as Manifest
  return env.EDIT_LOG!.get(env.EDIT_LOG!.idFromName(logName(m.model.sha256, m.memory.sha256)))
}

/** Classifications drive an import; a log serves once it is "ready". */
async function ready(iso: ReturnType<typeof isolate>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    await iso.request('/v1/classify', { method: 'POST', headers: AUTH, body: JSON.stringify({ text: NOTES[0] }) })
    if ((await iso.list(0, 1)).state === 'ready') return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('the import did not end')
}

const MAIL = 'URGENT: verify your account password now'

describe('a new model continues the edit log of the one before', () => {
  it('re-embeds the stored texts in resumable batches before they serve, keeps ids, seals the old log', async () => {
    const files = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
    const old = isolate({ MEMORY_SYNC_MS: '0' })
    const examples = NOTES.map((text, i) => ({ text, label: i % 2 ? 'spam' : 'ham' }))
    const learned = await old.learn(examples)
    expect((await old.forget(learned.ids[2])).status).toBe(200)
    // A learned text answers with its learned row alone (src/resmem/locality.ts): the built row to hide is a mail's.
    const hidden = (await old.classify(MAIL)).neighbors!.find((n) => n.source === 'built')!.row!
    expect((await old.forget(`base:${hidden}`)).status).toBe(200)
    const oldLog = await old.list()

    // The new deployment: same labels and training file, its own memory (key scale x1.25).
    const next = await variant(files, 1.25)
    const classifier = await ResMemClassifier.create(await loadBundle(sourceOf(next)), { ort: workerdOrt, createIndex: simdIndex })
    const first = new MemorySync(classifier, JSON.parse(new TextDecoder().decode(next.get('manifest.json'))) as Manifest, env.EDIT_LOG!, { bundle: MODEL, syncMs: 0, importBatch: 2 })
    const opened = await first.open()
    expect(opened.state).toBe('importing')
    expect(opened.predecessor).toBe(oldLog.entries.length ? logName(oldLog.entries[0].model, (JSON.parse(new TextDecoder().decode(files.get('manifest.json'))) as Manifest).memory.sha256) : undefined)

    // Two batches, then the object is evicted (and the isolate gone): the cursor is where the batches left it.
    expect(await first.importStep()).toBe(false)
    expect(await first.importStep()).toBe(false)
    expect((await log(next).getStatus())!.cursor).toBe(oldLog.entries[3].version)
    // The old log is sealed: the old deployment acknowledges no write the import could miss.
    const sealed = await old.request('/v1/memory', { method: 'POST', headers: AUTH, body: JSON.stringify({ examples: [{ text: 'too late', label: 'ham' }] }) })
    expect(sealed.status).toBe(409)
    expect(((await sealed.json()) as { error: { code: string } }).error.code).toBe('sealed')
    await abortAllDurableObjects()

    // Meanwhile the new deployment takes no writes and serves its built memory alone.
    const fresh = isolate({ MEMORY_SYNC_MS: '0' }, { loader: (e, s) => loadServedModel(sourceOf(next), e, s) })
    const busy = await fresh.request('/v1/memory', { method: 'POST', headers: AUTH, body: JSON.stringify({ examples: [{ text: 'during import', label: 'ham' }] }) })
    expect(busy.status).toBe(503)
    expect(((await busy.json()) as { error: { code: string; message: string } }).error.message).toMatch(/re-embedded/)
    expect((await log(next).read(0, 100, {})).entries).toEqual([])

    // Another isolate resumes at the cursor and completes.
    const second = new MemorySync(classifier, JSON.parse(new TextDecoder().decode(next.get('manifest.json'))) as Manifest, env.EDIT_LOG!, { bundle: MODEL, syncMs: 0, importBatch: 2 })
    await second.importRun()
    const status = (await log(next).getStatus())!
    expect(status.state).toBe('ready')
    const carried = (await log(next).read(0, 100, { rows: true, text: true })).entries
    // Every entry once, under its own version; adds encoded again by this deployment, at its key scale.
    expect(carried.map((e) => [e.version, e.op, e.target, e.text, e.label])).toEqual(oldLog.entries.map((e) => [e.version, e.op, e.target, e.text, e.label]))
    expect(status.live).toBe(oldLog.live)
    const adds = carried.filter((e) => e.op === 'add')
    // Encoded as the import batched them (2 entries a batch): a batch's padding moves the last float bits.
    for (let i = 0; i < carried.length; i += 2) {
      const batch = carried.slice(i, i + 2).filter((e) => e.op === 'add')
      const encoded = await classifier.encode(batch.map((e) => ({ text: e.text!, label: e.label! })))
      batch.forEach((e, j) => {
        expect(Array.from(e.key!)).toEqual(Array.from(encoded[j].key))
        expect(Array.from(e.residual!)).toEqual(Array.from(encoded[j].residual))
        expect(e.residualScale).toBe(encoded[j].residualScale)
      })
    }
    const before = (await log(files).read(0, 100, { rows: true })).entries.filter((e) => e.op === 'add')
    expect(adds.some((e, i) => Array.from(e.key!).join() !== Array.from(before[i].key!).join())).toBe(true)

    // Now they serve, under their ids; the forgotten stay forgotten; writes continue after the old versions.
    const answer = await fresh.classify(NOTES[0])
    expect(answer.neighbors![0]).toMatchObject({ source: 'edit', id: learned.ids[0] })
    expect((await fresh.classify(MAIL)).neighbors!.map((n) => n.row)).not.toContain(hidden)
    expect((await fresh.classify(NOTES[2])).neighbors!.map((n) => n.id)).not.toContain(learned.ids[2])
    const after = await fresh.learn([{ text: 'after the model change', label: 'ham' }])
    expect(after.version).toBe(oldLog.version + 1)

    // A third deployment on another training file: built-row forgets of the old file do not carry over (noted).
    const third = await variant(files, 0.8, 'f'.repeat(64))
    const latest = isolate({ MEMORY_SYNC_MS: '0' }, { loader: (e, s) => loadServedModel(sourceOf(third), e, s) })
    await latest.classify(NOTES[0]) // starts the import in this isolate
    let page = await latest.list()
    for (let i = 0; i < 100 && page.state !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      page = await latest.list()
    }
    expect(page.state).toBe('ready')
    const baseForget = page.entries.find((e) => e.op === 'forget' && e.note !== undefined)
    expect(baseForget?.note).toMatch(/another training file/)
    expect(page.entries.filter((e) => e.op === 'forget' && e.target !== undefined).map((e) => e.target)).toEqual([learned.ids[2]])
    expect((await latest.classify(NOTES[0])).neighbors![0]).toMatchObject({ source: 'edit', id: learned.ids[0] })
  })

  it('a rollback and a roll-forward keep every acknowledged write; built rows hidden before stay hidden during the import', async () => {
    const files = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
    const next = await variant(files, 1.5)
    const served = (f: BundleFiles) => isolate({ MEMORY_SYNC_MS: '0' }, { loader: (e, s) => loadServedModel(sourceOf(f), e, s) })
    const has = async (iso: ReturnType<typeof isolate>, text: string, id: string) => {
      expect((await iso.list()).entries.filter((e) => e.op === 'add' && e.text === text).map((e) => e.id)).toEqual([id])
      expect((await iso.classify(text)).neighbors![0]).toMatchObject({ source: 'edit', id })
    }

    const old = isolate({ MEMORY_SYNC_MS: '0' })
    await ready(old)
    const a = { text: `before the change ${crypto.randomUUID()}`, label: 'ham' }
    const [idA] = (await old.learn([a])).ids
    // A mail: built rows lie within the memory's radius of it (a casual note may lie beyond it, then none count).
    const probe = MAIL
    const hidden = (await old.classify(probe)).neighbors!.find((n) => n.source === 'built')?.row
    expect(hidden, 'a built row among the probe\'s neighbours').toBeTypeOf('number')
    expect((await old.forget(`base:${hidden}`)).status).toBe(200)

    // The new model's log imports one entry a step: meanwhile its copy hides what the old log hid (no re-embedding).
    const manifest = JSON.parse(new TextDecoder().decode(next.get('manifest.json'))) as Manifest
    const classifier = await ResMemClassifier.create(await loadBundle(sourceOf(next)), { ort: workerdOrt, createIndex: simdIndex })
    const sync = new MemorySync(classifier, manifest, env.EDIT_LOG!, { bundle: MODEL, syncMs: 0, importBatch: 1, importBudgetMs: 0 })
    const [before] = await classifier.classify([probe], { explain: true, params: { k: 8 } })
    expect(before.neighbors!.map((n) => n.row)).toContain(hidden)
    const work: Promise<unknown>[] = []
    await sync.current((p) => void work.push(p))
    expect(sync.state).toBe('importing')
    const [during] = await classifier.classify([probe], { explain: true, params: { k: 8 } })
    expect(during.neighbors!.map((n) => n.row)).not.toContain(hidden)
    await Promise.all(work)

    const forward = served(next)
    await ready(forward)
    await has(forward, a.text, idA)
    const b = { text: `after the change ${crypto.randomUUID()}`, label: 'spam' }
    const [idB] = (await forward.learn([b])).ids

    // Rollback: the old bundle served again takes writes (not sealed) and holds what the new one acknowledged.
    const back = served(files)
    await ready(back)
    await has(back, b.text, idB)
    await has(back, a.text, idA)
    expect((await back.classify(probe)).neighbors!.map((n) => n.row)).not.toContain(hidden)
    const c = { text: `after the rollback ${crypto.randomUUID()}`, label: 'ham' }
    const [idC] = (await back.learn([c])).ids

    // Roll forward again: nothing acknowledged on either side is lost.
    const again = served(next)
    await ready(again)
    for (const [text, id] of [[a.text, idA], [b.text, idB], [c.text, idC]]) await has(again, text, id)
    expect((await again.classify(probe)).neighbors!.map((n) => n.row)).not.toContain(hidden)
  })

  it('an import cut off half-way (its batch write never answers) is started again by a later request in the same isolate', async () => {
    const files = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
    const old = isolate({ MEMORY_SYNC_MS: '0' })
    await ready(old)
    await old.learn([{ text: `before a cut-off import ${crypto.randomUUID()}`, label: 'ham' }])
    const next = await variant(files, 0.9)
    const manifest = JSON.parse(new TextDecoder().decode(next.get('manifest.json'))) as Manifest
    const classifier = await ResMemClassifier.create(await loadBundle(sourceOf(next)), { ort: workerdOrt, createIndex: simdIndex })
    const fault: Fault = { mode: 'import-hangs' }
    const sync = new MemorySync(classifier, manifest, faulty(fault), { bundle: MODEL, syncMs: 0, importBatch: 4, importBudgetMs: 100, logTimeoutMs: 300 })
    await sync.current(() => undefined)
    expect(sync.state).toBe('importing')
    // The run hangs on its first batch; once the log answers again, a later request starts a new run.
    await new Promise((r) => setTimeout(r, 500))
    fault.mode = 'ok'
    for (let i = 0; i < 200 && sync.state !== 'ready'; i++) {
      await sync.current(() => undefined)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(sync.state).toBe('ready')
    expect((await log(next).getStatus())!.state).toBe('ready')
  })

  it('labels that live in the memory carry over to a new model, with their rows re-embedded; a removed one stays removed', async () => {
    const files = await readFiles(async (path) => new Uint8Array(await (await env.ASSETS.fetch(`http://assets/${MODEL}/${path}`)).arrayBuffer()))
    const old = isolate({ MEMORY_SYNC_MS: '0' })
    await ready(old)
    const tag = crypto.randomUUID().slice(0, 8)
    const [kept, gone] = [`carried-${tag}`, `gone-${tag}`]
    const add = (label: string) => old.request('/v1/labels', { method: 'POST', headers: AUTH, body: JSON.stringify({ label }) })
    expect((await add(kept)).status).toBe(201)
    expect((await add(gone)).status).toBe(201)
    const taught = [`Can we move our meeting to Thursday at 3pm? ${tag}`, `Meeting moved to Friday 10am, room 4 ${tag}`]
    const { ids } = await old.learn([...taught.map((text) => ({ text, label: kept })), { text: `gone label text ${tag}`, label: gone }])
    expect((await old.request(`/v1/labels/${gone}`, { method: 'DELETE', headers: AUTH })).status).toBe(200)

    const next = await variant(files, 1.1)
    const fresh = isolate({ MEMORY_SYNC_MS: '0' }, { loader: (e, s) => loadServedModel(sourceOf(next), e, s) })
    await ready(fresh)
    const labels = ((await (await fresh.request('/v1/labels', { headers: AUTH })).json()) as { labels: { label: string; source: string }[] }).labels
    expect(labels).toContainEqual({ label: kept, source: 'memory' })
    expect(labels.map((l) => l.label)).not.toContain(gone)
    for (const [i, text] of taught.entries()) expect(await fresh.classify(text), text).toMatchObject({ label: kept, neighbors: [{ source: 'edit', id: ids[i], label: kept }] })
    expect((await fresh.classify(`gone label text ${tag}`)).neighbors!.map((n) => n.id)).not.toContain(ids[2])
    // The new log takes writes of the carried label; removing it forgets its re-embedded rows.
    expect((await fresh.learn([{ text: `one more meeting ${tag}`, label: kept }])).ids).toHaveLength(1)
    expect(await (await fresh.request(`/v1/labels/${kept}`, { method: 'DELETE', headers: AUTH })).json()).toEqual({ label: kept, forgotten: 3 })
  })
})
