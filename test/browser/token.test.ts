/**
 * The demo page's "In this browser" behind an API_TOKEN (model files not public): the page says plainly what to
 * do when the model files answer 401, and the typed token then fetches them (createClassifier's `headers`).
 * Real worker under wrangler dev, real Chromium.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stageWeb } from '../../scripts/web/build.ts'
import { ASSETS_DIR, WEB_DIR } from '../../workers/scripts/build.ts'
import { CHROMIUM, CHROMIUM_ARGS, installHint } from '../helpers/chromium.ts'
import { startWorker, type StartedWorker } from '../workers-node/worker.ts'

const TOKEN = 'rsm_token_page_0123456789abcdef'

describe('demo page: the in-browser model behind API_TOKEN', () => {
  let worker: StartedWorker | undefined
  let browser: Browser | undefined
  let origin: string

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(installHint())
    await stageWeb(join(ASSETS_DIR, WEB_DIR))
    // No PUBLIC_MODEL_FILES: with API_TOKEN set, /v1/model/files/* asks for the token too.
    const started = await startWorker({ MODEL: 'spam' }, { secrets: { API_TOKEN: TOKEN } })
    worker = started.worker
    origin = started.url.origin
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })

  afterAll(async () => {
    await browser?.close()
    await worker?.dispose()
  })

  it('says to type the token on a 401; with the token typed it loads the model and classifies in the browser', async () => {
    const page = await (await browser!.newContext()).newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${origin}/`)
    const status = async () =>
      (await page.waitForFunction(() => {
        const s = document.getElementById('status')!
        return s.classList.contains('error') || s.textContent!.startsWith('Ready') ? s.textContent : false
      }, null, { timeout: 90_000 })).jsonValue()
    expect(await status()).toMatch(/HTTP 401 .*This worker sets API_TOKEN: type the token above, then classify again\./)
    await page.fill('#token', TOKEN)
    await page.dispatchEvent('#token', 'change')
    expect(await status()).toMatch(/^Ready/)
    await page.check('input[name="where"][value="browser"]')
    await page.fill('#text', 'Hi Tom, can we move our meeting to Thursday?')
    await page.press('#text', 'Control+Enter')
    await page.waitForFunction(() => Number(document.getElementById('result')!.dataset.count ?? 0) > 0, null, { timeout: 60_000 })
    const result = JSON.parse((await page.textContent('#raw'))!) as { unfamiliar: boolean; set: string[] }
    expect(result.unfamiliar).toBe(true)
    expect(await page.isVisible('#unfamiliar')).toBe(true)
    expect(errors).toEqual([])
  })
})
