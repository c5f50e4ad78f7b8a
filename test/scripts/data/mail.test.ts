import { describe, expect, it } from 'vitest'
import { decodeBytes, decodeEncodedWords, mailToText, parseHeaders } from '../../../scripts/data/mail.ts'

const crlf = (s: string) => s.replace(/\n/g, '\r\n')

describe('mailToText', () => {
  const mail = [
    'From spamtrap@example.com  Thu Aug 22 12:36:23 2002',
    'Return-Path: <bounce@spam-server.example>',
    'Received: from mx.spamhaus-relay.example (SPAM-FARM [10.0.0.1])',
    '\tby collector.example with SMTP id SPAMID42',
    'X-Spam-Status: Yes, hits=12.3',
    'Subject: Cheap watches',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Buy now, friend.',
    '',
  ].join('\n')

  it('keeps the subject and body and drops every other header, including folded lines', () => {
    expect(mailToText(mail)).toBe('Cheap watches\nBuy now, friend.\n')
    // The label leaks through headers in the corpus: none of their words may survive.
    expect(mailToText(mail).toLowerCase()).not.toContain('spam')
    expect(mailToText(mail)).not.toMatch(/Received|Return-Path|X-Spam|SMTP/)
  })

  it('handles CRLF mail the same way', () => {
    expect(mailToText(crlf(mail)).replace(/\r/g, '')).toBe('Cheap watches\nBuy now, friend.\n')
  })

  it('decodes a quoted-printable body in its charset', () => {
    const qp = ['Subject: caf=E9', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'Caf=E9 cr=E8me, a soft=', ' break =3D done'].join('\n')
    expect(mailToText(qp)).toBe('caf=E9\nCafé crème, a soft break = done')
  })

  it('decodes base64 and prefers text/plain over text/html in multipart mail', () => {
    const b64 = Buffer.from('Grüße aus Köln', 'utf8').toString('base64')
    const mime = [
      'Subject: =?utf-8?B?' + Buffer.from('Hallo Welt', 'utf8').toString('base64') + '?=',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="XYZ"',
      '',
      'This is a multi-part message in MIME format.',
      '--XYZ',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      'X-Spam-Part: leaked',
      '',
      b64,
      '--XYZ',
      'Content-Type: text/html',
      '',
      '<p>HTML copy</p>',
      '--XYZ--',
      'epilogue',
    ].join('\n')
    const text = mailToText(mime)
    expect(text).toBe('Hallo Welt\nGrüße aus Köln')
  })

  it('falls back to converted HTML when there is no text/plain part, and skips attachments', () => {
    const mime = [
      'Subject: offer',
      'Content-Type: multipart/mixed; boundary=b1',
      '',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<html><head><style>p{color:red}</style></head><body><p>Win&nbsp;a <b>prize</b> &amp; more</p></body></html>',
      '--b1',
      'Content-Type: application/octet-stream; name="x.exe"',
      'Content-Transfer-Encoding: base64',
      '',
      'TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA4fug4AtAnNIbgBTM0hVGhpcyBwcm9ncmFt',
      '--b1--',
    ].join('\n')
    expect(mailToText(mime)).toBe('offer\nWin a prize & more')
  })

  it('treats an untyped body that is HTML as HTML', () => {
    expect(mailToText('Subject: hi\n\n<html><body><font size=3>Hello <br>there</font></body></html>')).toBe('hi\nHello there')
  })

  it('keeps a forwarded message/rfc822 part without its headers', () => {
    const mime = [
      'Subject: fwd',
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: message/rfc822',
      '',
      'Received: from spam.example',
      'Subject: inner',
      '',
      'inner body',
      '--b--',
    ].join('\n')
    const text = mailToText(mime)
    expect(text).toContain('inner body')
    expect(text).not.toContain('spam.example')
  })
})

describe('headers', () => {
  it('unfolds continuation lines and keeps the first of repeated headers', () => {
    const h = parseHeaders('From x  Mon\nSubject: one\n two\nSubject: later\nX-A: 1')
    expect(h.subject).toBe('one two')
    expect(h['x-a']).toBe('1')
    expect(Object.keys(h)).not.toContain('from x  mon')
  })

  it('decodes RFC 2047 words, joining adjacent ones', () => {
    expect(decodeEncodedWords('=?iso-8859-1?Q?Caf=E9_au_lait?= =?utf-8?B?IOKCrA==?=')).toBe('Café au lait €')
  })
})

describe('charsets', () => {
  it('decodes Windows-1252 punctuation, which Node 20 TextDecoder gets wrong', () => {
    const qp = ['Subject: q', 'Content-Type: text/plain; charset=windows-1252', 'Content-Transfer-Encoding: quoted-printable', '', '=93quoted=94 =96 dash =80'].join('\n')
    expect(mailToText(qp)).toBe('q\n“quoted” – dash €')
    // An undeclared charset that is not valid UTF-8 is read as Windows-1252 too.
    expect(decodeBytes(Uint8Array.of(0x93, 0x41, 0x94))).toBe('“A”')
    expect(decodeBytes(Uint8Array.of(0xb1), 'iso-8859-2')).toBe('ą')
  })
})
