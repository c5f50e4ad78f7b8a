// Its own module (no .wasm imports), so Node-side tools such as the CPU bench can read it.
/**
 * Texts per onnxruntime run. ORT's wasm memory grows to the largest batch it has run and never shrinks: a
 * request of 32 texts at the maximum tokens took it from 28 to 71 MiB in batches of 16, to 33 MiB in batches
 * of 4, at the same latency (test/load, one thread). The isolate has 128 MB.
 */
export const ORT_BATCH = 4
