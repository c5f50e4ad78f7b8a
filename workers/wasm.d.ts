// wrangler (and vitest-pool-workers) turn a static `.wasm` import into a compiled WebAssembly.Module.
declare module '*.wasm' {
  const module: WebAssembly.Module
  export default module
}
