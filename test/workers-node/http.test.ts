// The real worker over real HTTP on loopback (wrangler's unstable_startWorker, workerd):
// - a broken bundle (memory.bin cut in half) staged in another assets directory: /healthz and /v1/classify
//   answer 503 with the reason and Retry-After, the worker keeps answering, and retries after LOAD_RETRY_SECONDS;
// - a secret API_TOKEN and CORS_ORIGINS as a deployment would set them, and bodies whose framing lies:
//   chunked without a length, a Content-Length shorter or longer than what is sent, 10 MB uploads.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ASSETS_DIR } from '../../workers/scripts/build.ts'
import { startWorker, type StartedWorker } from './worker.ts'

const MODEL = process.env.MODEL || 'spam'
const TOKEN = 'rsm_test_0123456789abcdefghij'
const staged = join(ASSETS_DIR, MODEL)
const dir = mkdtempSync(join(tmpdir(), 'resmem-broken-assets-'))
let broken: { worker: StartedWorker; url: URL }
let good: { worker: StartedWorker; url: URL }

beforeAll(async () => {
  // A copy of the staged bundle whose memory.bin lost its second half, as the only bundle of its assets.
  cpSync(staged, join(dir, 'broken'), { recursive: true })
  const memory = readFileSync(join(staged, 'memory.bin'))
  writeFileSync(join(dir, 'broken', 'memory.bin'), memory.subarray(0, memory.length >> 1))
  broken = await startWorker({ MODEL: 'broken', LOAD_RETRY_SECONDS: '2' }, { assets: dir })
  good = await startWorker({ MODEL, CORS_ORIGINS: 'https://app.example.com', MAX_BODY_BYTES: '65536' }, { secrets: { API_TOKEN: TOKEN } })
})

afterAll(async () => {
  await Promise.all([broken?.worker.dispose(), good?.worker.dispose()])
  rmSync(dir, { recursive: true, force: true })
})

const json = { 'content-type': 'application/json' }
const auth = { ...json, authorization: `Bearer ${TOKEN}` }

describe('a broken bundle behind real wrangler dev', () => {
  it('503 with the reason and Retry-After on /healthz and /v1/classify; everything else answers', async () => {
    const health = await fetch(new URL('/healthz', broken.url))
    expect(health.status).toBe(503)
    expect(health.headers.get('retry-after')).toBe('2')
    const { error } = (await health.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('model_unavailable')
    expect(error.message).toMatch(/ArtifactError \(corrupt\): memory\.bin: /)

    // A burst of 50 concurrent requests: all 503 with the same reason, none fails otherwise.
    const burst = await Promise.all(Array.from({ length: 50 }, () => fetch(new URL('/v1/classify', broken.url), { method: 'POST', headers: json, body: '{"text":"hi"}' })))
    expect(new Set(burst.map((r) => r.status))).toEqual(new Set([503]))
    for (const r of burst) expect(((await r.json()) as { error: { message: string } }).error.message).toBe(error.message)

    expect((await fetch(new URL('/openapi.json', broken.url))).status).toBe(200)
    expect((await fetch(new URL('/v1/classify', broken.url), { method: 'POST', headers: json, body: '{"text":" "}' })).status).toBe(400)
  })

  it('tries again after LOAD_RETRY_SECONDS (a fresh 2 s window), still answering', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const again = await fetch(new URL('/healthz', broken.url))
    expect(again.status).toBe(503)
    expect(again.headers.get('retry-after')).toBe('2')
    await again.arrayBuffer()
  })
})

/** One HTTP/1.1 exchange on a raw socket (sent, then half-closed): the first answer's status line and body. */
function rawExchange(url: URL, head: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname)
    let data = ''
    socket.on('data', (chunk) => (data += chunk.toString('latin1')))
    socket.on('error', () => undefined)
    // The status line, then the body of the first answer (enough to tell whose answer it is).
    socket.on('close', () => resolve(data ? `${data.split('\r\n')[0]} ${data.split('\r\n\r\n')[1] ?? ''}` : 'closed without an answer'))
    socket.setTimeout(5000, () => socket.destroy())
    socket.write(head)
    socket.write(body)
    socket.end()
  })
}

/** A chunked upload of `bytes` bytes (no Content-Length): the status and body the server answers with. */
function chunkedUpload(url: URL, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    const req = httpRequest(new URL('/v1/classify', url), { method: 'POST', headers: auth })
    req.on('response', (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve(`${res.statusCode} ${body}`))
    })
    req.on('error', (err) => resolve(`error ${err.message}`))
    const chunk = Buffer.alloc(65536, 0x20)
    chunk.write('{"text":"')
    let sent = 0
    const pump = () => {
      while (sent < bytes && !req.destroyed) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
}

// wrangler dev puts a proxy worker in front of the worker. When the worker refuses a body it has started to
// read (413 after the limit, 400 for a body cut short) the proxy's forwarding of the rest fails and it answers
// for the worker with this 503 (dev only; deployed Workers have no such proxy). The worker's own answers for
// these cases are tested without the proxy in workerd (test/workers/input.test.ts).
const DEV_PROXY_503 = /^(HTTP\/1\.1 )?503 .*Your worker restarted mid-request/s

describe('auth, CORS and body framing over real HTTP', () => {
  it('API_TOKEN as a secret binding: 401 without it, 200 with it; /healthz stays open', async () => {
    expect((await fetch(new URL('/healthz', good.url))).status).toBe(200)
    const denied = await fetch(new URL('/v1/classify', good.url), { method: 'POST', headers: json, body: '{"text":"hi"}' })
    expect(denied.status).toBe(401)
    expect(await denied.json()).toEqual({ error: { code: 'unauthorized', message: 'a valid bearer token is required' } })
    expect((await fetch(new URL('/v1/classify', good.url), { method: 'POST', headers: auth, body: '{"text":"hi"}' })).status).toBe(200)
  })

  it('CORS_ORIGINS: the preflight answers the allowed origin', async () => {
    const res = await fetch(new URL('/v1/classify', good.url), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
  })

  it('10 MB chunked without a Content-Length: refused (413, the dev proxy 503, or reset mid-upload); serving goes on', async () => {
    // The connection closes while the client still writes: its reset may reach the client before any answer.
    const answer = await chunkedUpload(good.url, 10_000_000)
    if (!answer.startsWith('413 ') && !/^error (write|read) (ECONNRESET|EPIPE)$/.test(answer)) expect(answer).toMatch(DEV_PROXY_503)
    expect((await fetch(new URL('/v1/classify', good.url), { method: 'POST', headers: auth, body: '{"text":"hi"}' })).status).toBe(200)
  })

  it('10 MB with its Content-Length: 413', async () => {
    const res = await fetch(new URL('/v1/classify', good.url), { method: 'POST', headers: auth, body: JSON.stringify({ text: 'x'.repeat(10_000_000) }) })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large')
  })

  it('a Content-Length shorter than the body: the body is cut there (400), the rest is not a request; serving goes on', async () => {
    const body = Buffer.from(JSON.stringify({ text: 'x'.repeat(100_000) }))
    const head = `POST /v1/classify HTTP/1.1\r\nHost: ${good.url.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 20\r\n\r\n`
    expect(await rawExchange(good.url, head, body)).toMatch(/^HTTP\/1\.1 400 /)
    expect((await fetch(new URL('/v1/classify', good.url), { method: 'POST', headers: auth, body: '{"text":"hi"}' })).status).toBe(200)
  })

  it('a Content-Length longer than what is sent, then the client stops sending: 400 (or the dev proxy 503); serving goes on', async () => {
    const head = `POST /v1/classify HTTP/1.1\r\nHost: ${good.url.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 60000\r\n\r\n`
    const answer = await rawExchange(good.url, head, Buffer.from('{"text":"cut'))
    if (!answer.startsWith('HTTP/1.1 400 ')) expect(answer).toMatch(DEV_PROXY_503)
    expect((await fetch(new URL('/v1/classify', good.url), { method: 'POST', headers: auth, body: '{"text":"hi"}' })).status).toBe(200)
  })
})
