import type { LabelledExample } from './example.ts'

/** Longest text we keep; longer mails are mostly base64 junk or quoted threads and only slow tokenising. */
export const MAX_TEXT_CHARS = 20_000

/**
 * One line of clean text: well-formed Unicode (NFC), no control characters, runs of whitespace as one space,
 * cut to `max` characters without splitting a surrogate pair.
 */
export function cleanText(text: string, max = MAX_TEXT_CHARS): string {
  let out = text
    // Lone surrogates (from cut or mis-decoded mail) would make invalid UTF-8 on write.
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f\u200b\ufeff]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  if (out.length > max) {
    out = out.slice(0, max)
    if (/[\ud800-\udbff]$/.test(out)) out = out.slice(0, -1)
    out = out.trimEnd()
  }
  return out
}

/** The key two texts share when they are the same message up to case and spacing. */
export function dedupeKey(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase()
}

export interface DedupeResult {
  examples: LabelledExample[]
  /** Rows dropped because an earlier row had the same normalised text. */
  duplicates: number
  /** Of those, rows whose label differed from the kept row's (the kept label wins). */
  conflicts: number
  /** Rows dropped because their text was empty. */
  empty: number
}

/** Drops empty texts and later copies of a text; the first occurrence (in input order) is kept. */
export function dedupe(examples: readonly LabelledExample[]): DedupeResult {
  const seen = new Map<string, string>()
  const out: LabelledExample[] = []
  let duplicates = 0
  let conflicts = 0
  let empty = 0
  for (const ex of examples) {
    const key = dedupeKey(ex.text)
    if (key === '') {
      empty++
      continue
    }
    const kept = seen.get(key)
    if (kept !== undefined) {
      duplicates++
      if (kept !== ex.label) conflicts++
      continue
    }
    seen.set(key, ex.label)
    out.push(ex)
  }
  return { examples: out, duplicates, conflicts, empty }
}
