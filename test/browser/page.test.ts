// The demo page in a real browser: the worker (wrangler.toml, workerd) serves the page, the browser bundle
// and the model; Debian's Chromium (through playwright-core, never a downloaded browser) classifies a spam
// and a ham text in the page's Web Worker (WASM here: headless, no GPU) and at the edge, and both must agree
// with the Node library. A reload must read the model from the Cache API, and a page on another origin must
// be able to embed the classifier with <script type="module">, as the README shows. "Correct it" must teach
// the edge memory (as the Node library's learn() does) and "Undo" forget it. The worker runs as a deployment
// with an API_TOKEN and public model files would: the page sends the token typed in its field.
import { existsSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stageWeb } from '../../scripts/web/build.ts'
import { ASSETS_DIR, WEB_DIR } from '../../workers/scripts/build.ts'
import type { ResMemClassifier } from '../../src/classifier.ts'
import { loadClassifier } from '../../src/node/index.ts'
import type { Classification, LabelScore } from '../../src/types.ts'
import { CHROMIUM, CHROMIUM_ARGS, installHint } from '../helpers/chromium.ts'
import { trustDisagreements } from '../helpers/trust.ts'
import { parseManifest } from '../../src/memory/manifest.ts'
import { startWorker, type StartedWorker } from '../workers-node/worker.ts'

// WebGPU without a GPU: Chromium's own software Vulkan (SwiftShader), which Debian's package ships.
const SWIFTSHADER_ARGS = [...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'), '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader']
// MODEL=langid runs it on the language-identification bundle, as the other suites do.
const MODEL = process.env.MODEL || 'spam'
const BUNDLE = join(process.env.RESMEM_ARTIFACTS || 'artifacts', MODEL)
/** The served build's manifest: its novelty threshold and conformal scores. */
const STAGED = existsSync(join(BUNDLE, 'manifest.json')) ? parseManifest(readFileSync(join(BUNDLE, 'manifest.json'))) : undefined!
const SCREENSHOT = join('test-output', 'browser', 'demo.png')
const TOLERANCE = 1e-4
const WEBGPU_TIMEOUT_MS = 150_000
// The bundle's model file: onnx/model.onnx, or onnx/model_quantized.onnx for an int8 base model.
const modelFileUrl = () => `/v1/model/files/${(JSON.parse(readFileSync(join(BUNDLE, 'manifest.json'), 'utf8')) as { model: { file: string } }).model.file}`
const TOKEN = 'rsm_demo_page_0123456789abcdef'

/** Two texts per bundle, by the label the Node library gives them. */
const TEXTS_BY_MODEL: Record<string, Record<string, string>> = {
  spam: {
    spam: 'URGENT! You have won a guaranteed $5000 cash prize. Click http://claim-prize.example.com now to collect, offer expires tonight. Reply STOP to opt out.',
    ham: 'Hi Mark, I pushed the fixes for the build script and updated the README. Can you review the branch before our meeting tomorrow morning? Thanks, Jo',
  },
  langid: {
    de: 'Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen begabt.',
    en: 'All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience.',
  },
}
const TEXTS = TEXTS_BY_MODEL[MODEL]
/** A text to correct, per bundle: short, casual, answered with little support from the memory. */
const TO_CORRECT: Record<string, string> = { spam: 'hi, are we still on for lunch tomorrow?', langid: 'ok merci' }
const [FIRST, SECOND] = Object.keys(TEXTS ?? {})

type Where = 'browser' | 'edge'

/** Largest |score difference| to the Node library seen so far, by where the text was classified. */
const maxDiff = new Map<string, number>()

function expectSameScores(mine: LabelScore[], theirs: LabelScore[], what: string): void {
  expect(mine.map((s) => s.label).sort(), what).toEqual(theirs.map((s) => s.label).sort())
  const where = what.split(',')[0]
  for (const s of theirs) {
    const diff = Math.abs(mine.find((x) => x.label === s.label)!.score - s.score)
    maxDiff.set(where, Math.max(maxDiff.get(where) ?? 0, diff))
    expect(diff, `${what}: ${s.label}`).toBeLessThanOrEqual(TOLERANCE)
  }
}

/** Same answer as the Node library: labels, ResMem and base scores within 1e-4, the neighbours' shape. */
function expectAgrees(result: Classification, node: Classification, what: string): void {
  expect(result.label, what).toBe(node.label)
  expect(result.base.label, what).toBe(node.base.label)
  expect(result.truncated, what).toBe(node.truncated)
  expectSameScores(result.scores, node.scores, `${what} scores`)
  expectSameScores(result.base.scores, node.base.scores, `${what} base scores`)
  expect(result.neighbors, what).toHaveLength(node.neighbors!.length)
  // novelty, unfamiliar and set: the same rule as the Node library, up to the runtimes' numeric differences.
  expect(trustDisagreements(result, node, STAGED), what).toEqual([])
}

/** Classifies `text` through the page's form and returns the raw result the page rendered. */
async function classifyInPage(page: Page, where: Where, text: string, timeout = 90_000): Promise<Classification> {
  const before = Number((await page.getAttribute('#result', 'data-count')) ?? 0)
  await page.check(`input[name="where"][value="${where}"]`)
  await page.fill('#text', text)
  await page.press('#text', 'Control+Enter')
  const outcome = await page.waitForFunction(
    (n) => {
      const count = Number(document.getElementById('result')!.dataset.count ?? 0)
      const status = document.getElementById('status')!
      if (status.classList.contains('error')) return `error: ${status.textContent}`
      return count > n ? 'ok' : false
    },
    before,
    { timeout },
  )
  expect(await outcome.jsonValue()).toBe('ok')
  expect(await page.getAttribute('#result', 'data-where')).toBe(where)
  return JSON.parse((await page.textContent('#raw'))!) as Classification
}

/**
 * Waits for the in-browser model: resolves to the page's status line, throws with it on failure. On a timeout the
 * error carries the status line the page showed last, so a slow start reads differently from a hang.
 */
async function waitForModel(page: Page, timeout = 90_000): Promise<void> {
  let handle
  try {
    handle = await page.waitForFunction(() => {
      const status = document.getElementById('status')!
      return status.classList.contains('error') || status.textContent!.startsWith('Ready') ? status.textContent : false
    }, null, { timeout })
  } catch (err) {
    const status = await page.textContent('#status').catch(() => '(unreadable)')
    throw new Error(`the page's model was not ready after ${timeout / 1000} s; its status line: ${JSON.stringify(status)}`, { cause: err })
  }
  expect(await handle.jsonValue()).toMatch(/^Ready/)
}

describe('demo page in Chromium', () => {
  let worker: StartedWorker | undefined
  let origin: string
  let node: ResMemClassifier
  let browser: Browser | undefined
  let context: BrowserContext
  let page: Page
  let embedServer: Server | undefined
  const requests: string[] = []
  const pageErrors: string[] = []

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(installHint())
    if (!TEXTS) throw new Error(`no test texts for MODEL=${MODEL} (known: ${Object.keys(TEXTS_BY_MODEL).join(', ')})`)
    if (!existsSync(join(BUNDLE, 'manifest.json'))) {
      throw new Error(`${BUNDLE} is missing: build it with \`npx tsx scripts/resmem.ts build-defaults --only ${MODEL} --if-missing\``)
    }
    // `npm run build:worker` (wrangler's build step) stages the browser build too; this makes it current.
    await stageWeb(join(ASSETS_DIR, WEB_DIR))
    const started = await startWorker({ MODEL, PUBLIC_MODEL_FILES: 'true' }, { secrets: { API_TOKEN: TOKEN } })
    worker = started.worker
    origin = started.url.origin
    node = await loadClassifier(BUNDLE)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
    // The context sees the Web Worker's requests too (the model and runtime downloads).
    context.on('request', (r) => requests.push(r.url()))
    page = await context.newPage()
    page.on('pageerror', (e) => pageErrors.push(e.message))
  })

  afterAll(async () => {
    console.log(`page ${MODEL}: max |score diff| to the Node library: ${[...maxDiff].map(([w, d]) => `${w} ${d.toExponential(2)}`).join(', ')}`)
    await browser?.close()
    await worker?.dispose()
    await new Promise((resolve) => (embedServer ? embedServer.close(resolve) : resolve(undefined)))
  })

  it(`classifies a ${FIRST} and a ${SECOND} text in the browser (WASM) and at the edge, as the Node library does`, async () => {
    await page.goto(`${origin}/`)
    await page.fill('#token', TOKEN)
    await waitForModel(page)
    expect(await page.getAttribute('#runtime-device', 'data-device')).toBe('wasm')
    expect(await page.textContent('#runtime-knn')).toContain('SIMD')

    const expected = await node.classify([TEXTS[FIRST], TEXTS[SECOND]], { explain: true })
    for (const [i, name] of [FIRST, SECOND].entries()) {
      const inBrowser = await classifyInPage(page, 'browser', TEXTS[name])
      const atEdge = await classifyInPage(page, 'edge', TEXTS[name])
      expect(expected[i].label, `the Node library on the ${name} text`).toBe(name)
      expectAgrees(inBrowser, expected[i], `browser, ${name} text`)
      expectAgrees(atEdge, expected[i], `edge, ${name} text`)
    }
    expect(await page.textContent('#latency-browser')).toMatch(/\d/)
    expect(await page.textContent('#latency-edge')).toMatch(/\d/)

    // Everything came from the page's own origin: no CDN for onnxruntime-web's files.
    const foreign = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'))
    expect(foreign).toEqual([])
    expect(requests).toContain(`${origin}${modelFileUrl()}`)
    expect(requests.some((u) => u.endsWith('/web/ort/ort-wasm-simd-threaded.wasm'))).toBe(true)
    expect(pageErrors).toEqual([])
  })

  it('reads the model and the runtime from the Cache API on the second page load', async () => {
    requests.length = 0
    await page.reload()
    await page.fill('#token', TOKEN)
    await waitForModel(page)
    expect(await page.getAttribute('#runtime-files', 'data-model-cached')).toBe('true')
    expect(requests.filter((u) => u.includes('/v1/model/files/') || u.includes('/web/ort/'))).toEqual([`${origin}/v1/model/files/manifest.json`])

    const [expected] = await node.classify([TEXTS[FIRST]], { explain: true })
    // The edge first, so that the screenshot shows the in-browser result and both latencies.
    expectAgrees(await classifyInPage(page, 'edge', TEXTS[FIRST]), expected, `edge after reload, ${FIRST} text`)
    expectAgrees(await classifyInPage(page, 'browser', TEXTS[FIRST]), expected, `browser after reload, ${FIRST} text`)
    await mkdir(join('test-output', 'browser'), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(pageErrors).toEqual([])
  })

  it('"Correct it" teaches the edge memory the right label and shows the new answer; "Undo" forgets it', async () => {
    const text = TO_CORRECT[MODEL]
    const before = await classifyInPage(page, 'edge', text)
    // A short casual note is unlike every memorized text: the page says so and points at "Correct it".
    if (MODEL === 'spam') expect(before.unfamiliar).toBe(true)
    expect(await page.isVisible('#unfamiliar')).toBe(before.unfamiliar === true)
    expect(await page.textContent('#unfamiliar')).toMatch(/^Unfamiliar: .*correct it below/)
    const label = before.label === FIRST ? SECOND : FIRST
    expect(await page.inputValue('#correct-label')).toBe(label)
    const count = async () => Number((await page.getAttribute('#result', 'data-count')) ?? 0)

    // Without the token the worker refuses, and the page says why.
    await page.fill('#token', '')
    await page.click('#correct-submit')
    await page.waitForFunction(() => document.getElementById('correct-status')!.classList.contains('error'))
    expect(await page.textContent('#correct-status')).toMatch(/bearer token/)

    await page.fill('#token', TOKEN)
    let n = await count()
    await page.click('#correct-submit')
    await page.waitForFunction((m) => Number(document.getElementById('result')!.dataset.count) > m && /^Learned/.test(document.getElementById('correct-status')!.textContent!), n)
    const after = JSON.parse((await page.textContent('#raw'))!) as Classification
    const id = await page.getAttribute('#correct', 'data-learned')
    expect(id).toMatch(/^\d+$/)
    expect(after.neighbors![0]).toMatchObject({ source: 'edit', id, label })
    expect(await page.textContent('#neighbors tbody')).toContain(`edit ${id}`)
    const score = (r: Classification) => r.scores.find((s) => s.label === label)!.score
    expect(score(after)).toBeGreaterThan(score(before))
    expect(await page.textContent('#correct-status')).toContain(`before: ${before.label}`)
    // The answer the Node library gives once it has learned the same example.
    const [nodeId] = await node.learn([{ text, label }])
    const [expected] = await node.classify([text], { explain: true })
    await node.forget([nodeId])
    expectAgrees(after, expected, `edge after "Correct it"`)
    await page.screenshot({ path: join('test-output', 'browser', 'correct.png'), fullPage: true })

    expect(await page.isVisible('#undo')).toBe(true)
    n = await count()
    await page.click('#undo')
    await page.waitForFunction((m) => Number(document.getElementById('result')!.dataset.count) > m && /^Forgot/.test(document.getElementById('correct-status')!.textContent!), n)
    expect(JSON.parse((await page.textContent('#raw'))!)).toEqual(before)
    expect(await page.isVisible('#undo')).toBe(false)
    expect(after.unfamiliar).toBe(false) // the learned row made its text familiar
    expect(pageErrors).toEqual([])
  })

  it('"Add label" adds a label the model never saw; taught a text, the edge and the in-browser library answer it as the Node library does', async () => {
    const text = TO_CORRECT[MODEL]
    const label = 'page-new-label'
    await page.fill('#token', TOKEN)
    // The in-browser model first, so that the page's memory learns what the edge learns.
    await classifyInPage(page, 'browser', text)
    const before = await classifyInPage(page, 'edge', text)
    await page.fill('#new-label', label)
    await page.click('#new-label-submit')
    await page.waitForFunction(() => /^Added the label/.test(document.getElementById('correct-status')!.textContent!))
    expect(await page.inputValue('#correct-label')).toBe(label)
    const n = Number((await page.getAttribute('#result', 'data-count')) ?? 0)
    await page.click('#correct-submit')
    await page.waitForFunction((m) => Number(document.getElementById('result')!.dataset.count) > m && /^Learned/.test(document.getElementById('correct-status')!.textContent!), n)
    const edge = JSON.parse((await page.textContent('#raw'))!) as Classification
    const inPage = await classifyInPage(page, 'browser', text)
    // The Node library, taught the same label and text.
    node.addLabel(label)
    await node.learn([{ text, label }])
    const [expected] = await node.classify([text], { explain: true })
    node.removeLabel(label)
    expect(expected.label).toBe(label)
    expect(before.label).not.toBe(label)
    expectAgrees(edge, expected, 'edge after teaching a new label')
    expectAgrees(inPage, expected, 'browser after teaching a new label')
    // The edge forgets it again, so the tests after this one see the model's labels only.
    const removed = await fetch(`${origin}/v1/labels/${label}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(await removed.json()).toEqual({ label, forgotten: 1 })
    expect(await classifyInPage(page, 'edge', text)).toEqual(before)
    expect(pageErrors).toEqual([])
  })

  it("runs on WebGPU where navigator.gpu gives an adapter (Chromium's SwiftShader)", async () => {
    // One fresh-clone run of 2026-12-06 stalled here for 300 s after the last bundle file downloaded (status
    // "Downloading files/tokenizer_config.json"), while the same file passed alone and in other full runs: the
    // page's worker stopped reading a response body (workerd later reported the write reset). The cause is not
    // found; a stalled attempt is reported with the requests still open and tried once more in a fresh browser.
    const attempt = async (): Promise<void> => {
      const gpuBrowser = await chromium.launch({ executablePath: CHROMIUM, args: SWIFTSHADER_ARGS })
      const open = new Map<string, number>()
      const started = Date.now()
      try {
        const gpuPage = await gpuBrowser.newPage()
        gpuPage.on('pageerror', (e) => pageErrors.push(e.message))
        gpuPage.on('request', (r) => open.set(r.url(), Date.now()))
        gpuPage.on('requestfinished', (r) => open.delete(r.url()))
        gpuPage.on('requestfailed', (r) => open.delete(r.url()))
        await gpuPage.goto(`${origin}/`)
        // SwiftShader compiles ORT's WebGPU shaders on the CPU: 11 s here alone, past 90 s on a 2-core CI machine
        // while other test files run beside it. Slow is not wrong here, so it gets its own, longer budget.
        await waitForModel(gpuPage, WEBGPU_TIMEOUT_MS).catch((err: Error) => {
          const pending = [...open].map(([url, at]) => `${new URL(url).pathname} (open since ${((at - started) / 1000).toFixed(1)} s)`)
          throw new Error(`${err.message}; requests still open: ${pending.join(', ') || 'none'}`, { cause: err })
        })
        const device = await gpuPage.getAttribute('#runtime-device', 'data-device')
        expect(device, `device 'auto' chose ${await gpuPage.textContent('#runtime-device')}; this Chromium offers no SwiftShader WebGPU adapter`).toBe('webgpu')
        expect(await gpuPage.textContent('#runtime-ort')).toContain('webgpu')
        const [expected] = await node.classify([TEXTS[FIRST]], { explain: true })
        expectAgrees(await classifyInPage(gpuPage, 'browser', TEXTS[FIRST], WEBGPU_TIMEOUT_MS), expected, `browser on WebGPU, ${FIRST} text`)
      } finally {
        await gpuBrowser.close()
      }
    }
    try {
      await attempt()
    } catch (err) {
      if (!/was not ready after/.test((err as Error).message)) throw err
      console.error(`WebGPU page stalled, trying once more in a fresh browser: ${(err as Error).message}`)
      await attempt()
    }
    expect(pageErrors).toEqual([])
  }, 5 * WEBGPU_TIMEOUT_MS)

  it('embeds in a page of another origin with <script type="module">', async () => {
    // Another port is another origin: the worker script, the runtime and the model all cross it (CORS).
    const html = `<!doctype html><meta charset="utf-8"><title>embed</title>
<script type="module">
  import { createClassifier } from '${origin}/web/resmem.js'
  try {
    const classifier = await createClassifier({ modelUrl: '${origin}/v1/model/files/', onProgress: (p) => (window.progress = p) })
    const result = await classifier.classify(${JSON.stringify(TEXTS[SECOND])}, { explain: true })
    // Locality in the browser library: a taught text answers its label; forgetting it gives the answer back.
    const note = ${JSON.stringify(TO_CORRECT[MODEL])}
    const before = await classifier.classify(note, { explain: true })
    const taughtLabel = before.label === ${JSON.stringify(FIRST)} ? ${JSON.stringify(SECOND)} : ${JSON.stringify(FIRST)}
    const [id] = await classifier.learn([{ text: note, label: taughtLabel }])
    const taught = await classifier.classify(note, { explain: true })
    await classifier.forget([id])
    const back = await classifier.classify(note, { explain: true })
    window.embedded = { device: classifier.device, result, locality: { before, taughtLabel, taught, back } }
  } catch (err) {
    window.embedded = { error: String(err && err.message || err) }
  }
</script>`
    embedServer = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html))
    await new Promise<void>((resolve) => embedServer!.listen(0, '127.0.0.1', resolve))
    const embed = async () => {
      const embedPage = await context.newPage()
      embedPage.on('pageerror', (e) => pageErrors.push(e.message))
      await embedPage.goto(`http://127.0.0.1:${(embedServer!.address() as AddressInfo).port}/`)
      return embedPage
        .waitForFunction(() => (window as { embedded?: unknown }).embedded, null, { timeout: 90_000 })
        .catch(async (err: Error) => {
          const last = await embedPage.evaluate(() => (window as { progress?: unknown }).progress).catch(() => undefined)
          await embedPage.close()
          throw new Error(`the embedded classifier did not answer in 90 s; its last progress report: ${JSON.stringify(last)}`, { cause: err })
        })
    }
    // One fresh-clone run stalled here after the last runtime file downloaded (see the WebGPU case): reported, tried once more.
    const handle = await embed().catch((err: Error) => {
      console.error(`embedded page stalled, trying once more in a new page: ${err.message}`)
      return embed()
    })
    const embedded = (await handle.jsonValue()) as { device?: string; result?: Classification; error?: string; locality?: { before: Classification; taughtLabel: string; taught: Classification; back: Classification } }
    expect(embedded.error).toBeUndefined()
    expect(embedded.device).toBe('wasm')
    const [expected] = await node.classify([TEXTS[SECOND]], { explain: true })
    expectAgrees(embedded.result!, expected, `embedded on another origin, ${SECOND} text`)
    const { before, taughtLabel, taught, back } = embedded.locality!
    expect(taught.label).toBe(taughtLabel)
    expect(taught.neighbors).toEqual([expect.objectContaining({ source: 'edit', label: taughtLabel, weight: 1 })])
    expect(taught.unfamiliar).toBe(false)
    expect(back).toEqual(before)
    expect(pageErrors).toEqual([])
  }, 240_000)
})
