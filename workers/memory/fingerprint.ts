/**
 * A token's fingerprint for the log: the first 16 hex digits of HMAC-SHA-256(salt, token), the salt a random
 * secret of the log that never leaves the worker (so a fingerprint shown to token holders cannot be used to
 * confirm a guessed token offline). The token itself is never stored.
 */
export async function tokenFingerprint(token: string, salt: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(salt), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(token)))
  return Array.from(mac.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('')
}
