/** Feature detection for the SIMD kernel, so an entry can fall back to the reference index. */

// The smallest module using a SIMD opcode: (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt).
// Same probe as wasm-feature-detect's `simd`.
const probe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b, // code section
])

let supported: boolean | undefined

/** Whether this runtime validates fixed-width (128-bit) wasm SIMD. Cached after the first call. */
export function simdSupported(): boolean {
  if (supported === undefined) {
    try {
      supported = typeof WebAssembly === 'object' && WebAssembly.validate(probe)
    } catch {
      supported = false
    }
  }
  return supported
}
