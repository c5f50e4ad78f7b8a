// `resmem init DIR`: the starter's files, and that it never writes into a folder that holds something.
// The starter is run for real (npm install, resmem build, wrangler dev and deploy --dry-run) from the packed
// tarball in test/package/worker.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CliError } from '../../../scripts/cli/errors.ts'
import { ownPackage } from '../../../scripts/cli/package.ts'
import { run } from '../../../scripts/commands/init.ts'
import { COMPATIBILITY_DATE, STARTER_COMMANDS, workerName } from '../../../scripts/init/starter.ts'

const dir = mkdtempSync(join(tmpdir(), 'resmem-init-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('resmem init', () => {
  it('writes a Worker project that depends on this package and serves bundles/model', async () => {
    await run([join(dir, 'My Worker')])
    const pkg = JSON.parse(readFileSync(join(dir, 'My Worker', 'package.json'), 'utf8'))
    const own = ownPackage()
    expect(pkg.name).toBe('my-worker')
    expect(pkg.dependencies).toEqual({ 'resmem-edge': `^${own.version}` })
    expect(pkg.devDependencies).toEqual({ 'onnxruntime-node': own.devDependencies!['onnxruntime-node'], wrangler: own.devDependencies!.wrangler })
    // Exact: a user's `resmem build` then runs the runtime version the shipped bundles record.
    expect(pkg.devDependencies['onnxruntime-node']).toMatch(/^\d+\.\d+\.\d+$/)
    const toml = readFileSync(join(dir, 'My Worker', 'wrangler.toml'), 'utf8')
    expect(toml).toContain('name = "my-worker"')
    expect(toml).toMatch(/\[assets\]\ndirectory = "bundles"\nbinding = "ASSETS"/)
    expect(toml).toContain('MODEL = "model"')
    const index = readFileSync(join(dir, 'My Worker', 'src', 'index.ts'), 'utf8')
    expect(index).toContain("import { createApp, lazyModel, loadFromBundleSource, resmemEntrypoint } from 'resmem-edge/workers'")
    expect(index).toContain('export const ResMem = resmemEntrypoint(model)')
    const readme = readFileSync(join(dir, 'My Worker', 'README.md'), 'utf8')
    expect(readme).toContain(['```sh', ...STARTER_COMMANDS, '```'].join('\n'))
  })

  it('uses the compatibility date of the repository worker', () => {
    expect(readFileSync('wrangler.toml', 'utf8')).toContain(`compatibility_date = "${COMPATIBILITY_DATE}"`)
  })

  it('refuses a folder that is not empty, and changes nothing in it', async () => {
    const taken = join(dir, 'taken')
    await mkdir(taken)
    writeFileSync(join(taken, 'package.json'), '{"name": "mine"}')
    await expect(run([taken])).rejects.toThrow(CliError)
    await expect(run([taken])).rejects.toThrow(/exists and is not empty/)
    expect(readFileSync(join(taken, 'package.json'), 'utf8')).toBe('{"name": "mine"}')
  })

  it('makes a Worker name Cloudflare accepts', () => {
    expect(workerName('My_Spam Filter!')).toBe('my-spam-filter')
    expect(workerName('---')).toBe('resmem-worker')
  })
})
