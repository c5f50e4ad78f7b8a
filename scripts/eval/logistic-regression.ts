/**
 * TF-IDF + multinomial logistic regression: the bag-of-words anchor a text classifier has to beat (on spam it
 * reaches ~0.987, platform notes). Written here, like naive-bayes.ts, because it is short and no maintained
 * npm package fits sparse multinomial LR without a framework. Features: the words of naive-bayes.ts seen in
 * at least MIN_COUNT training texts, sublinear tf (1 + log tf) x smoothed idf, L2-normalised per text. Fitted
 * with Adagrad SGD over a seeded example order, L2 penalty (lambda) chosen on val by the caller.
 */
import { words } from './naive-bayes.ts'

const MIN_COUNT = 2
const EPOCHS = 15
const LEARNING_RATE = 0.5

export interface TfidfLogisticRegression {
  classes: number
  vocabulary: Map<string, number>
  idf: Float64Array
  /** classes x (vocabulary + 1) weights, row-major; the last column is the bias. */
  weights: Float64Array
}

interface Sparse {
  ids: Uint32Array
  values: Float64Array
}

function vocabularyOf(texts: readonly string[]): { vocabulary: Map<string, number>; idf: Float64Array } {
  const df = new Map<string, number>()
  for (const t of texts) for (const w of new Set(words(t))) df.set(w, (df.get(w) ?? 0) + 1)
  const vocabulary = new Map<string, number>()
  const idfs: number[] = []
  for (const [w, n] of [...df].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (n < MIN_COUNT) continue
    vocabulary.set(w, vocabulary.size)
    idfs.push(Math.log((1 + texts.length) / (1 + n)) + 1)
  }
  return { vocabulary, idf: Float64Array.from(idfs) }
}

function features(model: Pick<TfidfLogisticRegression, 'vocabulary' | 'idf'>, text: string): Sparse {
  const tf = new Map<number, number>()
  for (const w of words(text)) {
    const id = model.vocabulary.get(w)
    if (id !== undefined) tf.set(id, (tf.get(id) ?? 0) + 1)
  }
  const ids = Uint32Array.from([...tf.keys()].sort((a, b) => a - b))
  const values = Float64Array.from(ids, (id) => (1 + Math.log(tf.get(id)!)) * model.idf[id])
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1
  for (let i = 0; i < values.length; i++) values[i] /= norm
  return { ids, values }
}

function probabilities(model: TfidfLogisticRegression, x: Sparse, out = new Float64Array(model.classes)): Float64Array {
  const stride = model.vocabulary.size + 1
  let max = -Infinity
  for (let c = 0; c < model.classes; c++) {
    let z = model.weights[c * stride + stride - 1]
    for (let j = 0; j < x.ids.length; j++) z += model.weights[c * stride + x.ids[j]] * x.values[j]
    out[c] = z
    max = Math.max(max, z)
  }
  let sum = 0
  for (let c = 0; c < model.classes; c++) sum += (out[c] = Math.exp(out[c] - max))
  for (let c = 0; c < model.classes; c++) out[c] /= sum
  return out
}

/** Fits on the texts; `lambda` is the L2 penalty per example. Same inputs, same weights. */
export function trainLogisticRegression(texts: readonly string[], labels: ArrayLike<number>, classes: number, lambda: number, seed = 1): TfidfLogisticRegression {
  const { vocabulary, idf } = vocabularyOf(texts)
  const model: TfidfLogisticRegression = { classes, vocabulary, idf, weights: new Float64Array(classes * (vocabulary.size + 1)) }
  const stride = vocabulary.size + 1
  const xs = texts.map((t) => features(model, t))
  const g2 = new Float64Array(model.weights.length).fill(1e-8)
  const order = Array.from({ length: texts.length }, (_, i) => i)
  let state = seed >>> 0
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296)
  const p = new Float64Array(classes)
  const step = (index: number, grad: number) => {
    g2[index] += grad * grad
    model.weights[index] -= (LEARNING_RATE * grad) / Math.sqrt(g2[index])
  }
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    for (const i of order) {
      const x = xs[i]
      probabilities(model, x, p)
      for (let c = 0; c < classes; c++) {
        const err = p[c] - (c === labels[i] ? 1 : 0)
        for (let j = 0; j < x.ids.length; j++) {
          const w = c * stride + x.ids[j]
          step(w, err * x.values[j] + lambda * model.weights[w])
        }
        step(c * stride + stride - 1, err)
      }
    }
  }
  return model
}

export function logisticRegressionProbabilities(model: TfidfLogisticRegression, text: string): Float64Array {
  return probabilities(model, features(model, text))
}

/** Bytes of the weights as float32, vocabulary strings excluded (as naiveBayesBytes). */
export function logisticRegressionBytes(model: TfidfLogisticRegression): number {
  return 4 * (model.weights.length + model.idf.length)
}
