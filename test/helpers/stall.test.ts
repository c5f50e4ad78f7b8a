// The helpers that make a hung step fail with its name: a child whose grandchild holds the pipes open is
// killed with its whole group at the deadline, and the error quotes its last progress line; a stage that never
// settles fails with its name and the detail given, long before a test runner's timeout.
import { describe, expect, it } from 'vitest'
import { sh } from '../package/shell.ts'
import { runChild } from './child.ts'
import { withDeadline } from './deadline.ts'

describe('a stalled child or stage names its step', () => {
  it('runChild kills the group (a background grandchild included) and quotes the last stderr line', async () => {
    const started = performance.now()
    const script = 'echo "load: 0.1 s: starting" >&2; sleep 60 & echo "load: 0.2 s: the step that hangs" >&2; sleep 60'
    await expect(runChild('bash', ['-c', script], { limitMs: 1000, what: 'the script' })).rejects.toThrow(/^the script: stalled, killed after \d+ s; its last step: load: 0\.2 s: the step that hangs/)
    expect(performance.now() - started).toBeLessThan(10_000)
    const ok = await runChild('bash', ['-c', 'echo out; echo progress >&2'], { limitMs: 10_000, what: 'quick' })
    expect(ok.stdout).toBe('out\n')
    await expect(runChild('bash', ['-c', 'echo "step 3" >&2; exit 3'], { limitMs: 10_000, what: 'failing' })).rejects.toThrow(/^failing: failed \(exit 3\) after \d+ s; its last step: step 3/)
  })

  it('sh stops a command whose grandchild holds its pipes, at its limit, naming the command', async () => {
    const started = performance.now()
    await expect(sh('sleep 60 & sleep 60', '/tmp', undefined, 1000)).rejects.toThrow(/^`sleep 60 & sleep 60` in \/tmp stalled: killed after the 1 s limit/)
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('withDeadline fails a stage that never settles with its name and detail, and names a stage that fails', async () => {
    await expect(withDeadline('classify', 50, new Promise(() => {}), () => 'page console: nothing')).rejects.toThrow(/^stalled at "classify": no answer after 0\.\d s \(limit 0\.05 s\)\npage console: nothing$/)
    await expect(withDeadline('open a page', 1000, Promise.reject(new Error('boom')))).rejects.toThrow(/^"open a page" failed after 0\.\d s: boom$/)
    expect(await withDeadline('quick', 1000, Promise.resolve(42))).toBe(42)
  })
})
