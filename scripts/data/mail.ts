/**
 * Just enough RFC 822 / MIME to turn a raw mail into the words a person would read: the Subject and the body
 * text. Every other header is dropped on purpose: in the SpamAssassin corpus each class reached the
 * collectors through different servers, so Received/Return-Path/X-* lines give the label away.
 */
import { htmlToText } from './html.ts'
import { decodeWindows1252, isWindows1252 } from './windows-1252.ts'

export interface MimeHeaders {
  /** Lower-cased header name -> first value, unfolded. */
  readonly [name: string]: string
}

interface ContentType {
  type: string
  params: Record<string, string>
}

/** Splits a message (or a MIME part) at the first empty line. A part may start with that empty line. */
export function splitMessage(raw: string): { head: string; body: string } {
  if (/^\r?\n/.test(raw)) return { head: '', body: raw.replace(/^\r?\n/, '') }
  const m = /\r?\n\r?\n/.exec(raw)
  if (!m) return { head: raw, body: '' }
  return { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) }
}

/** Parses a header block; the mbox `From ` line and other non-header lines are ignored. */
export function parseHeaders(head: string): MimeHeaders {
  const headers: Record<string, string> = {}
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line)
    if (!m) continue
    const name = m[1].toLowerCase()
    if (!Object.hasOwn(headers, name)) headers[name] = m[2].trim()
  }
  return headers
}

function parseContentType(value: string | undefined): ContentType {
  if (!value) return { type: '', params: {} }
  const type = value.split(';')[0].trim().toLowerCase()
  const params: Record<string, string> = {}
  for (const m of value.matchAll(/;\s*([\w*-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g)) {
    params[m[1].toLowerCase()] = m[2] ?? m[3]
  }
  return { type, params }
}

/** Decodes bytes in a declared charset; unknown or missing charsets try UTF-8, then Windows-1252. */
export function decodeBytes(bytes: Uint8Array, charset?: string): string {
  const label = (charset ?? '').trim().toLowerCase()
  if (label && label !== 'us-ascii' && label !== 'ascii' && label !== 'utf-8' && label !== 'utf8') {
    if (isWindows1252(label)) return decodeWindows1252(bytes)
    try {
      return new TextDecoder(label).decode(bytes)
    } catch {
      // Not a charset TextDecoder knows (e.g. "x-unknown"): fall through to the guess below.
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return decodeWindows1252(bytes)
  }
}

/** Quoted-printable to bytes: `=XX` is a byte, `=` at a line end is a soft break, other characters as UTF-8. */
export function decodeQuotedPrintable(text: string): Uint8Array {
  const src = text.replace(/=[ \t]*\r?\n/g, '')
  const out: number[] = []
  const encoder = new TextEncoder()
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i)
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      out.push(parseInt(src.slice(i + 1, i + 3), 16))
      i += 2
    } else if (c < 0x80) {
      out.push(c)
    } else {
      // The corpus was stored as UTF-8 text, so raw 8-bit characters are already code points.
      const cp = src.codePointAt(i)!
      for (const b of encoder.encode(String.fromCodePoint(cp))) out.push(b)
      if (cp > 0xffff) i++
    }
  }
  return Uint8Array.from(out)
}

/** Base64 to bytes, ignoring line breaks and stray characters as mail readers do. */
export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'))
}

/** Decodes RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`) in a header value. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?)/g, '$1')
    .replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g, (_, charset: string, enc: string, data: string) => {
      const bytes = enc.toUpperCase() === 'B' ? decodeBase64(data) : decodeQuotedPrintable(data.replace(/_/g, ' '))
      // RFC 2231 allows a language after '*': "utf-8*en".
      return decodeBytes(bytes, charset.split('*')[0])
    })
}

function decodeBody(body: string, headers: MimeHeaders, charset: string | undefined): string {
  const encoding = (headers['content-transfer-encoding'] ?? '').trim().toLowerCase()
  if (encoding === 'quoted-printable') return decodeBytes(decodeQuotedPrintable(body), charset)
  if (encoding === 'base64') return decodeBytes(decodeBase64(body), charset)
  return body
}

/** Splits a multipart body at its boundary lines; the preamble and epilogue are dropped. */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`
  const parts: string[] = []
  let current: string[] | null = null
  for (const line of body.split(/\r?\n/)) {
    if (line.startsWith(delimiter)) {
      if (current) parts.push(current.join('\n'))
      if (line.slice(delimiter.length).startsWith('--')) return parts
      current = []
    } else if (current) {
      current.push(line)
    }
  }
  if (current) parts.push(current.join('\n'))
  return parts
}

const LOOKS_LIKE_HTML = /<(html|body|head|table|div|font|p|br|a\s+href)\b[^>]*>/i

interface TextParts {
  plain: string[]
  html: string[]
}

function collect(raw: string, into: TextParts, depth: number): void {
  const { head, body } = splitMessage(raw)
  const headers = parseHeaders(head)
  collectBody(body, headers, into, depth)
}

function collectBody(body: string, headers: MimeHeaders, into: TextParts, depth: number): void {
  const ct = parseContentType(headers['content-type'])
  // Nesting deeper than this is a malformed or hostile mail; what we have is enough.
  if (depth > 8) return
  if (ct.type.startsWith('multipart/')) {
    const parts = ct.params.boundary ? splitMultipart(body, ct.params.boundary) : []
    if (parts.length === 0) {
      // A multipart header without usable parts: read the body as plain text rather than lose it.
      addText(body, '', into)
      return
    }
    for (const part of parts) collect(part, into, depth + 1)
    return
  }
  if (ct.type === 'message/rfc822') {
    // A forwarded mail: its headers are as telling as the outer ones, so keep only its subject and text.
    const { head, body: inner } = splitMessage(body)
    const innerHeaders = parseHeaders(head)
    if (innerHeaders.subject) into.plain.push(decodeEncodedWords(innerHeaders.subject))
    collectBody(inner, innerHeaders, into, depth + 1)
    return
  }
  if (ct.type !== '' && ct.type !== 'text/plain' && ct.type !== 'text/html' && ct.type !== 'text') return
  addText(decodeBody(body, headers, ct.params.charset), ct.type, into)
}

function addText(text: string, type: string, into: TextParts): void {
  if (type === 'text/html' || LOOKS_LIKE_HTML.test(text)) into.html.push(htmlToText(text))
  else into.plain.push(text)
}

/**
 * The readable text of a raw mail: the decoded Subject, a newline, then the body. For multipart mail the
 * text/plain parts are kept; only when there are none are the text/html parts converted. Attachments and all
 * other headers are dropped.
 */
export function mailToText(raw: string): string {
  const { head, body } = splitMessage(raw)
  const headers = parseHeaders(head)
  const parts: TextParts = { plain: [], html: [] }
  collectBody(body, headers, parts, 0)
  const plain = parts.plain.filter((t) => t.trim() !== '')
  const text = (plain.length > 0 ? plain : parts.html).join('\n')
  const subject = decodeEncodedWords(headers.subject ?? '')
  return subject ? `${subject}\n${text}` : text
}
