// /v1/memory against the real worker in workerd: the staged spam bundle, onnxruntime-web, the SIMD kernel and
// the EditLog Durable Object (SQLite) of wrangler.toml. Each isolate() is one isolate with its own copy of
// the memory; they share the object as isolates of one deployment do. Storage is this file's own.
import { abortAllDurableObjects } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { parseEditsFile } from '../../src/memory/edits-file.ts'
import { FORBIDDEN_MESSAGE } from '../../workers/routes/memory.ts'
import { LearnResponse, MemoryPage } from '../../workers/schemas.ts'
import { env, postJson } from './helpers.ts'
import { AUTH, NOTES, TOKEN, isolate } from './memory-helpers.ts'

const post = (body: unknown): RequestInit => ({ method: 'POST', headers: AUTH, body: JSON.stringify(body) })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('auth: the edit log always needs a bearer token', () => {
  it('403 on every memory route while API_TOKEN is unset, saying how to set one', async () => {
    const open = isolate({ API_TOKEN: undefined })
    for (const [path, init] of [
      ['/v1/memory', postJson({ examples: [{ text: 'hi', label: 'ham' }] })],
      ['/v1/memory', undefined],
      ['/v1/memory/export', undefined],
      ['/v1/memory/1', { method: 'DELETE' }],
    ] as const) {
      const res = await open.request(path, init)
      expect(res.status, `${init?.method ?? 'GET'} ${path}`).toBe(403)
      expect(await res.json()).toEqual({ error: { code: 'forbidden', message: FORBIDDEN_MESSAGE } })
    }
    expect(FORBIDDEN_MESSAGE).toContain('wrangler secret put API_TOKEN')
  })

  it('401 without the token or with a wrong one, when API_TOKEN is set', async () => {
    const app = isolate()
    expect((await app.request('/v1/memory', postJson({ examples: [{ text: 'hi', label: 'ham' }] }))).status).toBe(401)
    expect((await app.request('/v1/memory', { headers: { authorization: 'Bearer rsm_wrong_0123456789abcdefgh' } })).status).toBe(401)
    expect((await app.request('/v1/memory/export')).status).toBe(401)
  })

  it('with API_TOKEN set, /v1/model/files/* needs the token too, unless PUBLIC_MODEL_FILES is "true"', async () => {
    const path = '/v1/model/files/memory.bin'
    expect((await isolate({ PUBLIC_MODEL_FILES: undefined }).request(path)).status).toBe(401)
    expect((await isolate({ PUBLIC_MODEL_FILES: undefined }).request(path, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
    expect((await isolate({ PUBLIC_MODEL_FILES: 'true' }).request(path)).status).toBe(200)
    expect((await isolate({ PUBLIC_MODEL_FILES: 'false' }).request(path, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404)
    // Without API_TOKEN nothing is secret: the demo page's defaults.
    expect((await isolate({ API_TOKEN: undefined, PUBLIC_MODEL_FILES: undefined }).request(path)).status).toBe(200)
  })
})

describe('learn and forget', () => {
  it('a learned example answers at once (?explain=1 marks it), forgetting it restores the answer exactly', async () => {
    const app = isolate()
    const text = NOTES[1]
    const before = await app.classify(text)
    const res = await app.request('/v1/memory', post({ examples: [{ text, label: 'ham' }] }))
    expect(res.status).toBe(201)
    const body = LearnResponse.parse(await res.json())
    expect(body.ids).toHaveLength(1)
    expect(body.ids[0]).toBe(String(body.version))
    const after = await app.classify(text)
    expect(after.neighbors![0]).toMatchObject({ source: 'edit', id: body.ids[0], label: 'ham' })
    expect(after.neighbors![0].similarity).toBeGreaterThan(0.99)
    const ham = (r: typeof before) => r.scores.find((s) => s.label === 'ham')!.score
    expect(ham(after)).toBeGreaterThanOrEqual(ham(before))
    expect(after.base).toEqual(before.base)

    const forgotten = await app.forget(body.ids[0])
    expect(forgotten.status).toBe(200)
    expect(((await forgotten.json()) as { version: number }).version).toBe(body.version + 1)
    expect(await app.classify(text)).toEqual(before)
    // Once only; an id never given; not an id at all.
    expect((await app.forget(body.ids[0])).status).toBe(404)
    expect((await app.forget('987654')).status).toBe(404)
    const bad = await app.forget('seventeen')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request')
  })

  it('DELETE /v1/memory/base:{row} hides a built row; an unknown row is 404', async () => {
    const app = isolate()
    const text = NOTES[2]
    const before = await app.classify(text)
    const top = before.neighbors!.find((n) => n.source === 'built')!
    expect((await app.forget(`base:${top.row}`)).status).toBe(200)
    const after = await app.classify(text)
    expect(after.neighbors!.map((n) => n.row)).not.toContain(top.row)
    expect((await app.forget(`base:${top.row}`)).status).toBe(404)
    expect((await app.forget('base:99999999')).status).toBe(404)
  })

  it('bad input: empty text or label, a label the model lacks (named, with the model\'s labels), too many examples, unknown fields', async () => {
    const app = isolate()
    const { version } = await app.list()
    const cases: [unknown, number, RegExp][] = [
      [{ examples: [{ text: '', label: 'ham' }] }, 400, /examples\.0\.text/],
      [{ examples: [{ text: '   ', label: 'ham' }] }, 400, /examples\.0\.text/],
      [{ examples: [{ text: 'hi', label: '' }] }, 400, /examples\.0\.label/],
      [{ examples: [{ text: 'ok', label: 'ham' }, { text: 'hi', label: 'eggs' }] }, 400, /examples\.1\.label: "eggs" is not a label of the model \(labels: ham, spam\)/],
      [{ examples: [] }, 400, /examples/],
      [{ examples: Array.from({ length: 33 }, () => ({ text: 'x', label: 'ham' })) }, 400, /at most 32 examples/],
      [{ examples: [{ text: 'hi', label: 'ham', weight: 2 }] }, 400, /examples\.0\.weight/],
      [{ example: { text: 'hi', label: 'ham' } }, 400, /example/],
    ]
    for (const [body, status, message] of cases) {
      const res = await app.request('/v1/memory', post(body))
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status)
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message)
    }
    expect((await app.request('/v1/memory', { method: 'POST', headers: AUTH, body: '{"examples": [' })).status).toBe(400)
    expect((await app.request('/v1/memory', { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415)
    // Nothing was written.
    expect((await app.list()).version).toBe(version)
  })

  it('a text over the token limit is cut as classify cuts it (and stored whole)', async () => {
    const app = isolate()
    const long = Array.from({ length: 600 }, (_, i) => `word${i % 50}`).join(' ')
    const { ids, truncated } = await app.learn([{ text: long, label: 'spam' }])
    expect(truncated).toEqual([true])
    const result = await app.classify(long)
    expect(result.truncated).toBe(true)
    expect(result.neighbors![0]).toMatchObject({ source: 'edit', id: ids[0] })
    expect(result.neighbors![0].similarity).toBeGreaterThan(0.999)
    const entry = (await app.list()).entries.find((e) => e.id === ids[0])!
    expect(entry.text).toBe(long)
    expect(entry.token).toMatch(/^[0-9a-f]{16}$/)
    expect(JSON.stringify(entry)).not.toContain(TOKEN)
  })
})

describe('limits, concurrency, durability', () => {
  it('MAX_MEMORY_EDITS: a write that does not fit is refused whole with 409 memory_full; forgetting makes room', async () => {
    const first = isolate()
    const { live, hidden } = await first.list()
    // Hidden built rows take places too (earlier tests hid some).
    const app = isolate({ MAX_MEMORY_EDITS: String(live + hidden + 3) })
    const a = await app.learn([{ text: 'limit one', label: 'ham' }, { text: 'limit two', label: 'ham' }])
    const full = await app.request('/v1/memory', post({ examples: [{ text: 'limit three', label: 'ham' }, { text: 'limit four', label: 'ham' }] }))
    expect(full.status).toBe(409)
    const { error } = (await full.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('memory_full')
    expect(error.message).toMatch(new RegExp(`holds ${live + 2} learned examples and ${hidden} hidden built rows, and MAX_MEMORY_EDITS is ${live + hidden + 3}`))
    expect((await app.list()).live).toBe(live + 2)
    expect((await app.forget(a.ids[0])).status).toBe(200)
    expect((await app.learn([{ text: 'limit three', label: 'ham' }, { text: 'limit four', label: 'ham' }])).ids).toHaveLength(2)
  })

  it('200 concurrent POSTs get 200 distinct ids, and the log holds every one', async () => {
    const app = isolate()
    const start = (await app.list()).version
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => app.request('/v1/memory', post({ examples: [{ text: `concurrent note ${i}`, label: i % 2 ? 'ham' : 'spam' }] }))))
    expect(answers.map((r) => r.status)).toEqual(Array(200).fill(201))
    const ids = (await Promise.all(answers.map(async (r) => ((await r.json()) as { ids: string[] }).ids[0]))).map(Number)
    expect(new Set(ids).size).toBe(200)
    const page = await app.list(start)
    expect(page.entries.map((e) => Number(e.id)).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b))
    // Ids are log versions: each answer's text sits under its id.
    const texts = new Map(page.entries.map((e) => [Number(e.id), e.text]))
    for (const [i, id] of ids.entries()) expect(texts.get(id)).toBe(`concurrent note ${i}`)
  })

  it('an evicted and recreated object loses nothing acknowledged', async () => {
    const app = isolate()
    const { ids, version } = await app.learn([{ text: 'remember me after eviction', label: 'ham' }, { text: 'and me', label: 'spam' }])
    const forgotten = await app.forget(ids[1])
    expect(forgotten.status).toBe(200)
    const before = await app.list()
    await abortAllDurableObjects()
    // A new isolate, a recreated object: the same log, the same answers.
    const fresh = isolate()
    const after = await fresh.list()
    expect(after).toEqual(before)
    expect(after.version).toBe(version + 1)
    const result = await fresh.classify('remember me after eviction')
    expect(result.neighbors![0]).toMatchObject({ source: 'edit', id: ids[0] })
    expect((await fresh.classify('and me')).neighbors!.map((n) => n.id)).not.toContain(ids[1])
    // Writes go on after the eviction, with the next version.
    expect((await fresh.learn([{ text: 'after eviction', label: 'ham' }])).version).toBe(version + 2)
  })
})

describe('consistency: MEMORY_SYNC_MS', () => {
  it('the writing isolate reads its write at once; another within MEMORY_SYNC_MS, never later', async () => {
    const SYNC = 3000
    const a = isolate({ MEMORY_SYNC_MS: String(SYNC) })
    const b = isolate({ MEMORY_SYNC_MS: String(SYNC) })
    const text = 'consistency note: the bound holds'
    await b.classify(text) // b pulls now
    const { ids } = await a.learn([{ text, label: 'spam' }])
    const acknowledged = Date.now()
    expect((await a.classify(text)).neighbors![0].id).toBe(ids[0])
    // b's copy is younger than MEMORY_SYNC_MS: it may answer without the write (and here it does).
    const early = await b.classify(text)
    if (Date.now() - acknowledged < SYNC / 2) expect(early.neighbors!.map((n) => n.id)).not.toContain(ids[0])
    await sleep(SYNC + 100 - (Date.now() - acknowledged))
    expect((await b.classify(text)).neighbors![0].id).toBe(ids[0])
    // MEMORY_SYNC_MS = 0 reads the log on every request.
    const c = isolate({ MEMORY_SYNC_MS: '0' })
    await c.classify(text)
    const second = await a.learn([{ text: `${text} (again)`, label: 'spam' }])
    expect((await c.classify(`${text} (again)`)).neighbors![0].id).toBe(second.ids[0])
  })
})

describe('reading the log', () => {
  it('GET /v1/memory pages in log order; next chains the pages', async () => {
    const app = isolate()
    await app.learn(NOTES.map((text) => ({ text, label: 'ham' })))
    const all = await app.list(0, 1000)
    expect(MemoryPage.safeParse(all).success).toBe(true)
    const paged: number[] = []
    let after: number | null = 0
    while (after !== null) {
      const page = await app.list(after, 7)
      paged.push(...page.entries.map((e) => e.version))
      after = page.next
    }
    expect(paged).toEqual(all.entries.map((e) => e.version))
    expect(paged).toEqual([...paged].sort((a, b) => a - b))
    expect((await app.request('/v1/memory?limit=0', { headers: AUTH })).status).toBe(400)
    expect((await app.request('/v1/memory?after=-1', { headers: AUTH })).status).toBe(400)
    expect((await app.request('/v1/memory?from=3', { headers: AUTH })).status).toBe(400)
  })

  it('GET /v1/memory/export is edits.jsonl: the header, every entry with its stored row, in order', async () => {
    const app = isolate()
    const res = await app.request('/v1/memory/export', { headers: AUTH })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const file = parseEditsFile(new TextDecoder().decode(await res.arrayBuffer()), 'export')
    const listed = await app.list()
    expect(file.header.version).toBe(listed.version)
    expect(file.header.model).toBe(listed.entries[0].model)
    expect(file.entries.map((e) => e.version)).toEqual(listed.entries.map((e) => e.version))
    const manifest = (await (await env.ASSETS.fetch(`http://assets/${env.MODEL || 'spam'}/manifest.json`)).json()) as { memory: { quantization: { keyScale: number } } }
    expect(file.header.keyScale).toBe(manifest.memory.quantization.keyScale)
    for (const op of file.ops) if (op.op === 'add') expect(op.row?.key.length).toBe(file.header.dim)
  })
})
