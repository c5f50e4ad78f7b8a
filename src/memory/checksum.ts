/** SHA-256 through WebCrypto: the same code in workerd, browsers and Node (globalThis.crypto.subtle). */
export async function sha256(bytes: Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)
  return new Uint8Array(await crypto.subtle.digest('SHA-256', view as Uint8Array<ArrayBuffer>))
}

export function toHex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  return toHex(await sha256(bytes))
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  return diff === 0
}
