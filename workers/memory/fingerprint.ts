/** A token's fingerprint for the log: the first 16 hex digits of its SHA-256 (the token itself is never stored). */
export async function tokenFingerprint(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)))
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('')
}
