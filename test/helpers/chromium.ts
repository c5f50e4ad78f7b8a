/**
 * Chromium for the page tests: Debian's package, driven by playwright-core (never a test tool's own browser
 * download). `npm test` runs this file first (pretest): when Chromium is missing it installs it from Debian if
 * it runs as root on a system with apt-get, and otherwise stops with one line giving the exact command.
 * CHROMIUM_PATH points the tests at another Chromium binary.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

const APT_GET = '/usr/bin/apt-get'
const PACKAGE = 'chromium'

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The one line that says how to get Chromium on this machine. */
export function installHint(platform: NodeJS.Platform = process.platform, apt = existsSync(APT_GET)): string {
  const command = apt
    ? `sudo apt-get install -y --no-install-recommends ${PACKAGE}`
    : platform === 'darwin'
      ? 'brew install --cask chromium && export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium'
      : 'install Chromium with your package manager and set CHROMIUM_PATH to its binary'
  return `npm test needs Chromium for the page tests and found none at ${CHROMIUM}: run \`${command}\` (or set CHROMIUM_PATH to a Chromium binary), then npm test again`
}

/** Makes sure CHROMIUM runs here; returns what it did, or throws the one-line hint. */
export function ensureChromium(): string {
  if (executable(CHROMIUM)) return `Chromium: ${CHROMIUM}`
  const root = process.getuid?.() === 0
  if (process.env.CHROMIUM_PATH || !root || !existsSync(APT_GET)) throw new Error(installHint())
  console.log(`Chromium is missing: installing Debian's ${PACKAGE} with apt-get (running as root)`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', PACKAGE]]) {
    const r = spawnSync(APT_GET, args, { stdio: 'inherit', env })
    if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed (exit ${r.status ?? r.error?.message}). ${installHint()}`)
  }
  if (!executable(CHROMIUM)) throw new Error(`apt-get installed ${PACKAGE} but ${CHROMIUM} is still missing. ${installHint()}`)
  return `Chromium: installed ${CHROMIUM}`
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    ensureChromium()
  } catch (err) {
    console.error((err as Error).message)
    process.exit(1)
  }
}
