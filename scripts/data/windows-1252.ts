/**
 * Windows-1252 decoding. Node 20's TextDecoder('windows-1252') (and 'latin1', 'iso-8859-1', 'us-ascii', which
 * WHATWG maps to it) decodes as ISO-8859-1, so 0x93 comes out as the control U+0093 instead of a curly quote.
 * Old mail is full of these bytes, hence this table for 0x80-0x9F; the rest of the range is Latin-1.
 */
const HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
]

export function decodeWindows1252(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += String.fromCharCode(b >= 0x80 && b <= 0x9f ? HIGH[b - 0x80] : b)
  return out
}

/** Whether a charset label means Windows-1252 to a WHATWG decoder. */
export function isWindows1252(label: string): boolean {
  try {
    return new TextDecoder(label).encoding === 'windows-1252'
  } catch {
    return false
  }
}
