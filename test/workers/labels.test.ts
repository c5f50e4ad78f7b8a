// /v1/labels against the real worker in workerd: the staged spam bundle, onnxruntime-web, the SIMD kernel and the
// EditLog Durable Object. A label added to the memory, taught through POST /v1/memory, answers near its rows and
// nowhere else; removing it forgets its rows. Each test uses its own label names (the log is this file's own).
import { describe, expect, it } from 'vitest'
import { AddLabelResponse, LabelList, RemoveLabelResponse } from '../../workers/schemas.ts'
import type { Classification } from '../../src/types.ts'
import { AUTH, TOKEN, isolate } from './memory-helpers.ts'

const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', headers: { ...AUTH, ...headers }, body: JSON.stringify(body) })
const MEETINGS = ['Can we move our meeting to Thursday at 3pm?', 'Meeting moved to Friday 10am, room 4', 'Reminder: team meeting tomorrow at 9 in the small room']
/** Near the first taught row (a paraphrase may lie past the locality radius or behind 8 nearer built rows). */
const NEAR = 'Can we move our meeting to Thursday at 4pm?'
const FAR = 'WIN a FREE cruise!!! Click here now to claim your cash prize'
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error

/** Classify as a caller does: no k, no explain (the built memory may be off; learned rows answer anyway). */
async function classify(app: ReturnType<typeof isolate>, text: string): Promise<Classification> {
  const res = await app.request('/v1/classify', post({ text }))
  expect(res.status).toBe(200)
  return (await res.json()) as Classification
}

describe('labels that live in the memory', () => {
  it('add, teach, classify answers the new label near its rows only; list; remove forgets the rows and restores every answer', async () => {
    const app = isolate()
    const before = { near: await classify(app, NEAR), far: await classify(app, FAR) }

    const added = await app.request('/v1/labels', post({ label: 'meeting' }))
    expect(added.status).toBe(201)
    const body = AddLabelResponse.parse(await added.json())
    expect(body).toMatchObject({ label: 'meeting', source: 'memory' })
    expect(body.labels).toEqual([{ label: 'ham', source: 'model' }, { label: 'spam', source: 'model' }, { label: 'meeting', source: 'memory' }])

    const learned = await app.learn(MEETINGS.map((text) => ({ text, label: 'meeting' })))
    expect(learned.ids).toHaveLength(3)

    const near = await classify(app, NEAR)
    expect(near.label).toBe('meeting')
    expect(near.scores.map((s) => s.label).sort()).toEqual(['ham', 'meeting', 'spam'])
    expect(near.base.scores.find((s) => s.label === 'meeting')!.score).toBe(0)
    // Far from every new row: the answer it had, with the new label at 0.
    const far = await classify(app, FAR)
    expect(far.label).toBe(before.far.label)
    expect(far.score).toBe(before.far.score)
    expect(far.scores.filter((s) => s.label !== 'meeting')).toEqual(before.far.scores)
    expect(far.scores.find((s) => s.label === 'meeting')!.score).toBe(0)
    expect(far.set).toEqual(before.far.set)

    // A second isolate (its own copy of the memory) serves the label and its rows too.
    const other = isolate()
    expect((await classify(other, NEAR)).label).toBe('meeting')
    const list = LabelList.parse(await (await other.request('/v1/labels', { headers: AUTH })).json())
    expect(list.labels.at(-1)).toEqual({ label: 'meeting', source: 'memory' })
    const model = (await (await other.request('/v1/model', { headers: AUTH })).json()) as { labels: string[]; served: { labels: unknown[] } }
    expect(model.labels).toEqual(['ham', 'spam'])
    expect(model.served.labels).toEqual(list.labels)

    const removed = await app.request('/v1/labels/meeting', { method: 'DELETE', headers: AUTH })
    expect(removed.status).toBe(200)
    expect(RemoveLabelResponse.parse(await removed.json())).toEqual({ label: 'meeting', forgotten: 3 })
    expect(await classify(app, NEAR)).toEqual(before.near)
    expect(await classify(app, FAR)).toEqual(before.far)
    const page = await app.list()
    expect(page.entries.filter((e) => e.op === 'forget' && learned.ids.includes(e.target!))).toHaveLength(3)
    expect(page.entries.filter((e) => e.op === 'label').map((e) => [e.label, e.target])).toEqual([['meeting', 'add'], ['meeting', 'remove']])
    // Teaching a removed label is a 400 naming the served labels; added again, it starts empty.
    const refused = await app.request('/v1/memory', post({ examples: [{ text: MEETINGS[0], label: 'meeting' }] }))
    expect(refused.status).toBe(400)
    expect((await errorOf(refused)).message).toMatch(/"meeting" is not a label.*labels: ham, spam/)
    expect((await app.request('/v1/labels', post({ label: 'meeting' }))).status).toBe(201)
    expect((await classify(app, NEAR)).label).toBe(before.near.label)
    const again = await app.request('/v1/labels/meeting', { method: 'DELETE', headers: AUTH })
    expect(await again.json()).toEqual({ label: 'meeting', forgotten: 0 })
  })

  it('names, limits, auth and conflicts answer 4xx that say what is wrong', async () => {
    const app = isolate()
    for (const label of ['', 'two words', 'x'.repeat(65), ' lead', 'semi;colon']) {
      const res = await app.request('/v1/labels', post({ label }))
      expect(res.status, JSON.stringify(label)).toBe(400)
      expect((await errorOf(res)).code).toBe('invalid_request')
    }
    expect((await app.request('/v1/labels', post({ label: 'ok', extra: 1 }))).status).toBe(400)
    expect((await app.request('/v1/labels', post({ label: 'a-b_c.d:e/f' }))).status).toBe(201)
    const exists = await app.request('/v1/labels', post({ label: 'ham' }))
    expect([exists.status, (await errorOf(exists)).code]).toEqual([409, 'label_exists'])
    const twice = await app.request('/v1/labels', post({ label: 'a-b_c.d:e/f' }))
    expect([twice.status, (await errorOf(twice)).code]).toEqual([409, 'label_exists'])
    const modelLabel = await app.request('/v1/labels/spam', { method: 'DELETE', headers: AUTH })
    expect([modelLabel.status, (await errorOf(modelLabel)).code]).toEqual([409, 'model_label'])
    expect((await app.request('/v1/labels/nope', { method: 'DELETE', headers: AUTH })).status).toBe(404)

    const live = LabelList.parse(await (await app.request('/v1/labels', { headers: AUTH })).json()).labels.filter((l) => l.source === 'memory').length
    const small = isolate({ MEMORY_MAX_LABELS: String(live + 1) })
    expect((await small.request('/v1/labels', post({ label: 'one-more' }))).status).toBe(201)
    const full = await small.request('/v1/labels', post({ label: 'too-many' }))
    const fullError = await errorOf(full)
    expect([full.status, fullError.code]).toEqual([409, 'labels_full'])
    expect(fullError.message).toMatch(/MEMORY_MAX_LABELS is/)

    const open = isolate({ API_TOKEN: undefined })
    expect((await open.request('/v1/labels', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"label":"x"}' })).status).toBe(403)
    expect((await open.request('/v1/labels/x', { method: 'DELETE' })).status).toBe(403)
    expect((await open.request('/v1/labels')).status).toBe(200)
    expect((await app.request('/v1/labels', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"label":"x"}' })).status).toBe(401)
    expect((await app.request('/v1/labels', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"label":"x"}' })).status).toBe(201)
  })

  it('an Idempotency-Key retry answers the first answer and adds nothing', async () => {
    const app = isolate()
    const key = { 'idempotency-key': 'label-retry-1' }
    const first = await app.request('/v1/labels', post({ label: 'retry' }, key))
    expect(first.status).toBe(201)
    const retry = await app.request('/v1/labels', post({ label: 'retry' }, key))
    expect(retry.status).toBe(201)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    const page = await app.list()
    expect(page.entries.filter((e) => e.op === 'label' && e.label === 'retry')).toHaveLength(1)
    const mismatch = await app.request('/v1/labels', post({ label: 'other' }, key))
    expect(mismatch.status).toBe(422)
  })
})
