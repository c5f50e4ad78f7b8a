// Worker RPC (workers/rpc.ts) in workerd: a second worker (test/workers/rpc-caller.js) binds this worker's
// ResMem entrypoint as a service binding would (vitest.workers.config.ts), and what it gets back is compared
// with the HTTP routes' answers and errors for the same input. The binding carries wrangler.toml's vars (no
// API_TOKEN): the memory is closed there, as over HTTP; learning is tested on the class itself with a token.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseResMemError, resmemEntrypoint, RPC_WRITER } from '../../workers/rpc.ts'
import { FORBIDDEN_MESSAGE } from '../../workers/operations/index.ts'
import type { Classification } from '../../src/types.ts'
import { env, MODEL, postJson, worker } from './helpers.ts'
import { isolate, MEMORY_K, NOTES, TOKEN } from './memory-helpers.ts'

const SPAM = 'WIN a FREE cruise!!! Click here to claim your prize now'
const HAM = NOTES[1]

interface Caught {
  value?: unknown
  error?: { name: string; message: string; isError: boolean }
}

/** env.RESMEM[method](...args) in the second worker, as its code would call it. */
async function rpc(method: string, ...args: unknown[]): Promise<Caught> {
  const caller = (env as unknown as { RPC_CALLER: { fetch(url: string, init: RequestInit): Promise<Response> } }).RPC_CALLER
  const res = await caller.fetch('http://caller/', { method: 'POST', body: JSON.stringify({ method, args }) })
  return (await res.json()) as Caught
}

/** The error a caller caught, read back; fails the test when the call succeeded. */
function failure(caught: Caught) {
  expect(caught.error, JSON.stringify(caught.value)?.slice(0, 200)).toBeDefined()
  expect(caught.error!.isError).toBe(true)
  const parsed = parseResMemError(new Error(caught.error!.message))
  expect(parsed, caught.error!.message).toBeDefined()
  return parsed!
}

async function http(path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await worker(path, init)
  return { status: res.status, body: await res.json() }
}

describe('ResMem over a service binding', () => {
  it('classify answers as POST /v1/classify does, one text or a batch, with explain and k', async () => {
    const one = await rpc('classify', { text: SPAM })
    expect(one.value).toEqual((await http('/v1/classify', postJson({ text: SPAM }))).body)
    if (MODEL === 'spam') expect((one.value as Classification).label).toBe('spam')
    const batch = await rpc('classify', { texts: [SPAM, HAM] }, { explain: true, k: MEMORY_K })
    const viaHttp = await http(`/v1/classify?explain=1&k=${MEMORY_K}`, postJson({ texts: [SPAM, HAM] }))
    expect(batch.value).toEqual(viaHttp.body)
    expect((batch.value as { results: Classification[] }).results[0].neighbors).toHaveLength(MEMORY_K)
  })

  it('model answers the manifest of GET /v1/model; run answers Workers AI\'s [{label, score}] for the served name', async () => {
    expect((await rpc('model')).value).toEqual((await http('/v1/model')).body)
    const http1 = (await http('/v1/classify', postJson({ text: SPAM }))).body as Classification
    expect((await rpc('run', MODEL, { text: SPAM })).value).toEqual(http1.scores)
    expect(failure(await rpc('run', '@cf/huggingface/distilbert-sst-2-int8', { text: SPAM }))).toEqual({
      code: 'model_not_found',
      status: 404,
      message: `model "@cf/huggingface/distilbert-sst-2-int8" is not served here: this worker serves "${MODEL}"`,
    })
  })

  it('bad input gets the same 400 as over HTTP (code, message naming the field), for any body', async () => {
    const text = fc.oneof(fc.constantFrom('', '  ', 'hi', SPAM), fc.integer(), fc.constant(null))
    const body = fc.oneof(
      fc.record({ text }, { requiredKeys: [] }),
      fc.record({ texts: fc.array(text, { maxLength: 3 }) }),
      fc.record({ text, texts: fc.array(text, { maxLength: 2 }) }),
      fc.record({ text: fc.constant('hi'), extra: fc.integer() }),
      fc.record({ texts: fc.constant(Array.from({ length: 33 }, () => 'hi')) }),
    )
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const [caught, viaHttp] = await Promise.all([rpc('classify', input), http('/v1/classify', postJson(input))])
        if (viaHttp.status === 200) expect(caught.value).toEqual(viaHttp.body)
        else expect(failure(caught)).toEqual({ code: viaHttp.body.error.code, status: viaHttp.status, message: viaHttp.body.error.message })
      }),
      { numRuns: 25 },
    )
    // Options are RPC's own (typed values, not query strings), with the query's limits.
    expect(failure(await rpc('classify', { text: 'hi' }, { k: 999 }))).toMatchObject({ code: 'invalid_request', status: 400, message: 'k: an integer from 0 to 256' })
    expect(failure(await rpc('classify', { text: 'hi' }, { explain: 'yes' }))).toMatchObject({ code: 'invalid_request', status: 400 })
  })

  it('exposes its methods only: the helper that holds env and the static model are out of reach', async () => {
    for (const name of ['call', '#call', 'servedModel', 'env', 'ctx']) expect((await rpc(name)).error, name).toBeDefined()
  })

  it('learn and forget: 403 while API_TOKEN is unset, as over HTTP (the binding asks no token, the memory stays closed)', async () => {
    expect(failure(await rpc('learn', [{ text: 'hi', label: 'ham' }]))).toEqual({ code: 'forbidden', status: 403, message: FORBIDDEN_MESSAGE })
    expect(failure(await rpc('forget', '1'))).toEqual({ code: 'forbidden', status: 403, message: FORBIDDEN_MESSAGE })
  })
})

describe('the ResMem class with API_TOKEN set (the RPC methods in-process)', () => {
  const ResMem = resmemEntrypoint()
  const waits: Promise<unknown>[] = []
  const resmem = new ResMem({ waitUntil: (p: Promise<unknown>) => void waits.push(p) }, { ...env, API_TOKEN: TOKEN })

  it('learns (stored under the writer "rpc", as its salted fingerprint), the example answers at once, forgetting it takes it out', async () => {
    const written = await resmem.learn([{ text: HAM, label: 'ham' }])
    expect(written.ids).toHaveLength(1)
    const after = await resmem.classify({ text: HAM }, { explain: true, k: MEMORY_K })
    expect(after.neighbors![0]).toMatchObject({ source: 'edit', id: written.ids[0], label: 'ham' })
    const entry = (await isolate().list()).entries.find((e) => e.id === written.ids[0])
    // The log keeps a salted fingerprint of the writer, never the writer itself (workers/memory/fingerprint.ts).
    expect(entry?.token).toMatch(/^[0-9a-f]{16}$/)
    expect(entry?.token).not.toBe(RPC_WRITER)
    expect((await resmem.forget(written.ids[0])).version).toBeGreaterThan(written.version)
    const gone = await resmem.classify({ text: HAM }, { explain: true, k: MEMORY_K })
    expect(gone.neighbors!.some((n) => n.id === written.ids[0])).toBe(false)
    await Promise.all(waits)
  })

  it('adds a memory label, learns it, lists it and removes it as the /v1/labels routes do, with their errors', async () => {
    const added = await resmem.addLabel('rpc-label')
    expect(added).toMatchObject({ label: 'rpc-label', source: 'memory' })
    expect(added.labels.at(-1)).toEqual({ label: 'rpc-label', source: 'memory' })
    const written = await resmem.learn([{ text: HAM, label: 'rpc-label' }])
    expect((await resmem.classify({ text: HAM })).label).toBe('rpc-label')
    expect((await resmem.labels()).labels).toEqual(added.labels)
    expect(parseResMemError(await resmem.addLabel('rpc-label').catch((err: unknown) => err))).toMatchObject({ code: 'label_exists', status: 409 })
    expect(parseResMemError(await resmem.addLabel('two words').catch((err: unknown) => err))).toMatchObject({ code: 'invalid_request', status: 400 })
    expect(parseResMemError(await resmem.removeLabel('ham').catch((err: unknown) => err))).toMatchObject({ code: 'model_label', status: 409 })
    expect(await resmem.removeLabel('rpc-label')).toEqual({ label: 'rpc-label', forgotten: 1 })
    expect((await resmem.classify({ text: HAM }, { explain: true, k: MEMORY_K })).neighbors!.some((n) => n.id === written.ids[0])).toBe(false)
    await Promise.all(waits)
  })

  it('a label the model lacks, an id that is none, and a forgotten id get the HTTP route\'s errors', async () => {
    const app = isolate()
    const bad = [{ text: 'hi', label: 'no-such-label' }]
    const viaHttp = await app.request('/v1/memory', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ examples: bad }) })
    const httpError = ((await viaHttp.json()) as { error: { code: string; message: string } }).error
    const caught = await resmem.learn(bad).catch((err: unknown) => err)
    expect(parseResMemError(caught)).toEqual({ code: httpError.code, status: viaHttp.status, message: httpError.message })
    expect(parseResMemError(await resmem.forget('nope').catch((err: unknown) => err))).toMatchObject({ code: 'invalid_request', status: 400 })
    expect(parseResMemError(await resmem.forget('999999').catch((err: unknown) => err))).toMatchObject({ code: 'not_found', status: 404 })
  })
})
