// novelty, unfamiliar, set and abstention through the whole worker (staged spam bundle, onnxruntime-web in
// workerd, SIMD kernel): the fields every answer carries, the request's alpha and abstain, NOVELTY=off, and
// learned rows that make their neighbourhood familiar (edit log in a Durable Object).
import { describe, expect, it } from 'vitest'
import { AUTH, isolate } from './memory-helpers.ts'
import type { Manifest } from '../../src/memory/manifest.ts'
import type { Answer, Classification } from '../../src/types.ts'
import { Classification as ClassificationSchema } from '../../workers/schemas.ts'
import { STAGED_MANIFEST } from './helpers.ts'

const MAIL = 'Congratulations! You have WON a FREE cruise. Click here now to claim your prize, limited offer!!!'
const NOTE = 'Hi Tom, can we move our meeting to Thursday?'

const post = (app: ReturnType<typeof isolate>, body: unknown, query = '') => app.request(`/v1/classify${query}`, { method: 'POST', headers: AUTH, body: JSON.stringify(body) })
async function answer<T = Classification>(app: ReturnType<typeof isolate>, text: string, query = ''): Promise<T> {
  const res = await post(app, { text }, query)
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as T
}

describe('novelty, unfamiliar and set from the worker', () => {
  it('every answer carries them; /v1/model says the radius, threshold and conformal scores it serves', async () => {
    const app = isolate()
    const manifest = (await (await app.request('/v1/model', { headers: AUTH })).json()) as Manifest
    expect(manifest.locality).toEqual(STAGED_MANIFEST.locality)
    expect(manifest.conformal!.alpha).toBe(0.1)
    const [mail, note] = [await answer(app, MAIL), await answer(app, NOTE)]
    for (const r of [mail, note]) {
      expect(ClassificationSchema.safeParse(r).success).toBe(true)
      expect(r.novelty).toBeGreaterThanOrEqual(0)
      expect(r.unfamiliar).toBe(r.novelty! > manifest.locality!.novelty.threshold)
      expect(r.set!.every((l) => manifest.labels.includes(l))).toBe(true)
    }
    // A casual note is unlike every training mail; the prize mail is not.
    expect(note.unfamiliar).toBe(true)
    expect(mail.unfamiliar).toBe(false)
    expect(mail.set).toEqual(['spam'])
  })

  it('?alpha= narrows or widens the set; ?abstain=1 answers label null when unfamiliar; bad values are 400s naming them', async () => {
    const app = isolate()
    const loose = await answer(app, NOTE, '?alpha=0.5')
    const strict = await answer(app, NOTE, '?alpha=0.01')
    expect(loose.set!.length).toBeLessThanOrEqual(strict.set!.length)
    const abstained = await answer<Answer>(app, NOTE, '?abstain=1')
    expect(abstained).toMatchObject({ label: null, score: null, abstained: 'unfamiliar' })
    expect(abstained.scores[0].score).toBeGreaterThan(0)
    expect((await answer<Answer>(app, MAIL, '?abstain=1')).label).toBe('spam')
    for (const [query, field] of [['?alpha=1', 'alpha'], ['?alpha=0', 'alpha'], ['?alpha=abc', 'alpha'], ['?abstain=maybe', 'abstain']]) {
      const res = await post(app, { text: NOTE }, query)
      expect(res.status, query).toBe(400)
      expect(JSON.stringify(await res.json()), query).toContain(field)
    }
  })

  it('NOVELTY=off drops novelty and unfamiliar, keeps label, scores and set', async () => {
    const on = await answer(isolate(), NOTE)
    const off = await answer(isolate({ NOVELTY: 'off' }), NOTE)
    expect(off).not.toHaveProperty('novelty')
    expect(off).not.toHaveProperty('unfamiliar')
    const { novelty: _, unfamiliar: __, ...rest } = on
    expect(off).toEqual(rest)
  })

  it('a learned note makes itself familiar and answers its label; forgetting it gives the answer back', async () => {
    const app = isolate({ MEMORY_SYNC_MS: '0' })
    const before = await answer(app, NOTE)
    const { ids } = await app.learn([{ text: NOTE, label: 'ham' }])
    const served = (await (await app.request('/v1/model', { headers: AUTH })).json()) as { served: { learnedRows: number; builtMemory: string } }
    expect(served.served).toMatchObject({ learnedRows: 1, builtMemory: STAGED_MANIFEST.resmem.k > 0 ? 'on' : 'off' })
    const after = await answer(app, NOTE, '?explain=1')
    expect(after).toMatchObject({ label: 'ham', unfamiliar: false, neighbors: [{ source: 'edit', id: ids[0], weight: 1 }] })
    expect(after.novelty).toBeLessThan(0.01)
    expect((await app.forget(ids[0])).status).toBe(200)
    expect(await answer(app, NOTE)).toEqual(before)
  })
})
