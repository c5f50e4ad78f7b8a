import { describe, expect, it } from 'vitest'
import { decodeEntities, htmlToText } from '../../../scripts/data/html.ts'

describe('htmlToText', () => {
  it('drops script, style, head and comments, and turns tags into spaces', () => {
    const html = `<html><head><title>T</title><style>.a{}</style></head>
      <body><script>var spam = 1</script><!-- hidden spam --><p>One</p><p>Two<br>Three</p><td>4</td></body></html>`
    expect(htmlToText(html)).toBe('One Two Three 4')
  })

  it('decodes named, decimal and hex entities; unknown names stay', () => {
    expect(decodeEntities('&lt;a&gt; &amp; &eacute;&Eacute; &AElig;&thorn; &#233;&#xE9; &#150; &bogus; &nbsp;')).toBe('<a> & éÉ Æþ éé – &bogus;  ')
  })

  it('leaves a lone "<" that starts no tag', () => {
    expect(htmlToText('1 < 2 and a<b')).toBe('1 < 2 and a<b')
  })

  it('drops an unclosed <script> to the end rather than leaking its code', () => {
    expect(htmlToText('keep <script>tail')).toBe('keep')
  })
})
