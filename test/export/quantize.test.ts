import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import * as ortWeb from 'onnxruntime-web/wasm'
import { describe, expect, it } from 'vitest'
import { readLabelledJsonl } from '../../scripts/data/index.ts'
import { addEmbeddingOutput, addKeyOutput, parseKeySpec } from '../../scripts/export/index.ts'
import { decodeModel, onnx } from '../../scripts/export/proto.ts'
import { MATMUL_WEIGHT_LEVELS, quantizeModel, quantizeSymmetric } from '../../scripts/export/quantize.ts'
import { TextTokenizer } from '../../src/tokenize/index.ts'

/**
 * Parity of the int8 graph with float32. Stated bounds (measured, then given headroom):
 * - HF-shaped fixtures (random weights, |logits| < 2): every logit within 0.1 of torch's float32 value (worst seen 0.06).
 * - the shipped models on real validation texts: every logit within 0.05 x the text's largest |logit| + 0.05,
 *   and the predicted label the same for at least 98% of the texts.
 */
const FIXTURE_TOL = 0.1
const fixture = (name: string, file: string) => fileURLToPath(new URL(`../fixtures/${name}/${file}`, import.meta.url))
const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))

function int64(rows: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length])
}

describe('quantizeModel (int8 MatMul/Gemm weights and word embeddings)', () => {
  it('quantizes symmetrically within half a step', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 3)
    const { q, scale } = quantizeSymmetric(values)
    expect(Math.max(...q)).toBe(127)
    values.forEach((v, i) => expect(Math.abs(q[i] * scale - v)).toBeLessThanOrEqual(scale / 2 + 1e-6))
    const weights = quantizeSymmetric(values, MATMUL_WEIGHT_LEVELS)
    expect(Math.max(...weights.q)).toBe(63)
    expect(Math.min(...weights.q)).toBe(-63)
  })

  it('MatMul weights use 7 bits: the worst u8 x s8 pair fits int16, so onnxruntime-node and -web compute the same product', async () => {
    // Activations at their largest (every |x| equal: all quantize to 255 or 1) against weights at their largest:
    // with 8-bit weights, AVX2 CPUs without VNNI clipped this sum in onnxruntime-node (8,160 instead of ~1e6).
    const K = 64
    const W = new Float32Array(K * 2).map((_, i) => (i % 2 ? -1 : 1))
    const graph = {
      node: [{ opType: 'MatMul', name: 'mm', input: ['x', 'W'], output: ['y'] }],
      name: 'g',
      initializer: [{ name: 'W', dims: [K, 2], dataType: 1, rawData: new Uint8Array(W.buffer) }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: K }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }] } } } }],
    }
    const model = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph }).finish()
    const q = quantizeModel(model, { inputIds: 'none' }).bytes
    const x = new Float32Array(K).fill(3)
    const want = [3 * K, -3 * K]
    const node = (await (await ort.InferenceSession.create(q)).run({ x: new ort.Tensor('float32', x, [1, K]) })).y.data as Float32Array
    ortWeb.env.wasm.numThreads = 1
    const web = (await (await ortWeb.InferenceSession.create(q)).run({ x: new ortWeb.Tensor('float32', x, [1, K]) })).y.data as Float32Array
    for (let i = 0; i < 2; i++) {
      expect(node[i]).toBeCloseTo(want[i], 3)
      expect(web[i]).toBeCloseTo(want[i], 3)
    }
  })

  for (const name of ['hf-bert', 'hf-distilbert', 'hf-matmul-head']) {
    it(`${name}: the int8 graph keeps logits and embedding, logits within ${FIXTURE_TOL} of torch's float32`, async () => {
      const keyed = addEmbeddingOutput(new Uint8Array(readFileSync(fixture(name, 'onnx/model.onnx')))).bytes
      const q = quantizeModel(keyed)
      expect(q.matmuls.length).toBeGreaterThanOrEqual(13)
      expect(q.embeddings).toHaveLength(1)
      expect(q.weightBytes.int8 * 4).toBe(q.weightBytes.float32)
      const ops = new Set(decodeModel(q.bytes).graph.node!.map((n) => n.opType))
      for (const op of ['MatMulInteger', 'DequantizeLinear']) expect(ops).toContain(op)
      const session = await ort.InferenceSession.create(q.bytes)
      expect(session.outputNames).toEqual(expect.arrayContaining(['logits', 'embedding']))
      const expected = JSON.parse(readFileSync(fixture(name, 'expected.json'), 'utf8')) as { cases: { inputs: Record<string, number[][]>; logits: number[][] }[] }
      for (const c of expected.cases) {
        const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, rows]) => [k, int64(rows)]))
        const logits = (await session.run(feeds)).logits.data as Float32Array
        const want = c.logits.flat()
        const worst = want.reduce((m, v, i) => Math.max(m, Math.abs(logits[i] - v)), 0)
        expect(worst).toBeLessThan(FIXTURE_TOL)
        expect(worst).toBeGreaterThan(0) // it did change the weights
      }
    })
  }

  for (const [model, key] of [['spam', 'penultimate+mean-last-hidden+mean-word-embeddings'], ['langid', 'mean-word-embeddings']] as const) {
    it(`${model}: int8 logits close to float32 on real validation texts, in onnxruntime-node and onnxruntime-web (wasm)`, async () => {
      const fp32 = addKeyOutput(new Uint8Array(readFileSync(root(`models/${model}/onnx/model.onnx`))), parseKeySpec(key)).bytes
      const int8 = quantizeModel(fp32).bytes
      expect(int8.length).toBeLessThan(fp32.length / 3)
      const json = (f: string) => JSON.parse(readFileSync(root(`models/${model}/${f}`), 'utf8')) as object
      const config = json('config.json') as { max_position_embeddings: number }
      const tokenizer = new TextTokenizer(json('tokenizer.json'), json('tokenizer_config.json'), config.max_position_embeddings)
      const texts = (await readLabelledJsonl(root(`data/${model}/val.jsonl`))).slice(0, 48).map((e) => e.text)
      const batch = tokenizer.encodeBatch(texts)
      const feeds = {
        input_ids: new ort.Tensor('int64', batch.inputIds, [batch.batch, batch.length]),
        attention_mask: new ort.Tensor('int64', batch.attentionMask, [batch.batch, batch.length]),
      }
      const run = async (bytes: Uint8Array) => (await (await ort.InferenceSession.create(bytes)).run(feeds)).logits
      const [a, b] = [await run(fp32), await run(int8)]
      const classes = a.dims[1]
      const la = a.data as Float32Array
      const lb = b.data as Float32Array
      let agree = 0
      for (let t = 0; t < batch.batch; t++) {
        const row = (l: Float32Array) => Array.from(l.subarray(t * classes, (t + 1) * classes))
        const [ra, rb] = [row(la), row(lb)]
        const scale = Math.max(...ra.map(Math.abs))
        ra.forEach((v, i) => expect(Math.abs(rb[i] - v)).toBeLessThan(0.05 * scale + 0.05))
        if (ra.indexOf(Math.max(...ra)) === rb.indexOf(Math.max(...rb))) agree++
      }
      expect(agree / batch.batch).toBeGreaterThanOrEqual(0.98)

      // The worker's runtime, onnxruntime-web's wasm build, has the kernels (MatMulInteger, Round, Cast to int8),
      // and with per-row activation scales a text's logits do not depend on its batch-mates (padded length equal).
      ortWeb.env.wasm.numThreads = 1
      const web = await ortWeb.InferenceSession.create(int8)
      const webRun = async (rows: number) =>
        (await web.run({
          input_ids: new ortWeb.Tensor('int64', batch.inputIds.slice(0, rows * batch.length), [rows, batch.length]),
          attention_mask: new ortWeb.Tensor('int64', batch.attentionMask.slice(0, rows * batch.length), [rows, batch.length]),
        })).logits.data as Float32Array
      const [webBatch, webAlone] = [await webRun(4), await webRun(1)]
      expect(Array.from(webAlone)).toEqual(Array.from(webBatch.subarray(0, classes)))
      // The integer products are exact in both runtimes (7-bit weights): only float rounding around them differs.
      for (let i = 0; i < 4 * classes; i++) expect(Math.abs(webBatch[i] - lb[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(lb[i])))
    })
  }
})
