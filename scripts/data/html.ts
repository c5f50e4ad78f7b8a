import { decodeWindows1252 } from './windows-1252.ts'

/**
 * HTML to plain text, small and dependency-free: enough for mail bodies and the UDHR pages, not a browser.
 * Script, style, head and comments go; tags become spaces; entities are decoded.
 */

// The named entities that occur in mail and in UDHR pages; anything else is left as written.
const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', shy: '', ensp: ' ', emsp: ' ', thinsp: ' ',
  copy: '©', reg: '®', trade: '™', hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', sbquo: '‚',
  ldquo: '“', rdquo: '”', bdquo: '„', laquo: '«', raquo: '»', lsaquo: '‹', rsaquo: '›', bull: '•', middot: '·',
  euro: '€', pound: '£', yen: '¥', cent: '¢', curren: '¤', sect: '§', para: '¶', deg: '°', plusmn: '±',
  times: '×', divide: '÷', frac12: '½', frac14: '¼', frac34: '¾', sup1: '¹', sup2: '²', sup3: '³',
  iexcl: '¡', iquest: '¿', ordf: 'ª', ordm: 'º', micro: 'µ', not: '¬', macr: '¯', acute: '´', cedil: '¸',
  uml: '¨', brvbar: '¦', dagger: '†', Dagger: '‡', permil: '‰', prime: '′', Prime: '″', larr: '←', rarr: '→',
  uarr: '↑', darr: '↓', hearts: '♥', spades: '♠', clubs: '♣', diams: '♦', szlig: 'ß', OElig: 'Œ', oelig: 'œ',
  Scaron: 'Š', scaron: 'š', Yuml: 'Ÿ', fnof: 'ƒ', circ: 'ˆ', tilde: '˜', zwnj: '', zwj: '',
}
// Latin-1 letters follow one pattern (&Eacute; &ntilde; ...), so they are generated, not listed.
const LATIN1_LETTERS: [string, number][] = [
  ['Agrave', 0xc0], ['Aacute', 0xc1], ['Acirc', 0xc2], ['Atilde', 0xc3], ['Auml', 0xc4], ['Aring', 0xc5],
  ['AElig', 0xc6], ['Ccedil', 0xc7], ['Egrave', 0xc8], ['Eacute', 0xc9], ['Ecirc', 0xca], ['Euml', 0xcb],
  ['Igrave', 0xcc], ['Iacute', 0xcd], ['Icirc', 0xce], ['Iuml', 0xcf], ['ETH', 0xd0], ['Ntilde', 0xd1],
  ['Ograve', 0xd2], ['Oacute', 0xd3], ['Ocirc', 0xd4], ['Otilde', 0xd5], ['Ouml', 0xd6], ['Oslash', 0xd8],
  ['Ugrave', 0xd9], ['Uacute', 0xda], ['Ucirc', 0xdb], ['Uuml', 0xdc], ['Yacute', 0xdd], ['THORN', 0xde],
]
for (const [name, code] of LATIN1_LETTERS) {
  NAMED[name] = String.fromCharCode(code)
  // The lower-case letter sits 0x20 above: &Eacute; -> &eacute;, &AElig; -> &aelig;, &THORN; -> &thorn;.
  const lower = /^[A-Z][a-z]/.test(name) ? name[0].toLowerCase() + name.slice(1) : name.toLowerCase()
  NAMED[lower] = String.fromCharCode(code + 0x20)
}
NAMED.yuml = 'ÿ'

function fromCodePoint(code: number): string {
  // Windows-1252 mail often writes &#150; meaning an en dash; C1 controls are never meant literally.
  if (code >= 0x80 && code <= 0x9f) return decodeWindows1252(Uint8Array.of(code))
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd'
  return String.fromCodePoint(code)
}

/** Decodes `&amp;`, `&eacute;`, `&#233;`, `&#xE9;`; unknown names stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});?/g, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10)
      return fromCodePoint(code)
    }
    return Object.hasOwn(NAMED, body) ? NAMED[body] : whole
  })
}

/** Converts HTML to text with whitespace collapsed to single spaces. */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
      .replace(/<(script|style|head|title|xml)\b[^>]*>[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
      .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ' ')
      .replace(/<\/?[A-Za-z!?][^>]*>/g, ' '),
  )
    .replace(/\s+/g, ' ')
    .trim()
}
