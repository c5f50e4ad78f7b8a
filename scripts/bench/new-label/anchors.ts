/**
 * The anchors a new label is learned against, in Node: the k-NN vote alone on the served model's keys (built rows
 * + taught rows), and TF-IDF + logistic regression refitted on the training split plus the taught sentences.
 */
import type { EmbeddedSplit } from '../../build/embed.ts'
import { findNeighbors, knnPredict, type KnnParams } from '../../eval/knn.ts'
import { logisticRegressionProbabilities, trainLogisticRegression } from '../../eval/logistic-regression.ts'
import { argmax } from '../../../src/resmem/combine.ts'
import type { LabelledExample } from '../../data/index.ts'

/** Rows of several embedded splits as one, at the served label width `classes` (model labels + new ones). */
export function concatSplits(parts: readonly EmbeddedSplit[], classes: number): EmbeddedSplit {
  const dim = parts[0].dim
  const width = parts[0].classes
  const rows = parts.reduce((s, p) => s + p.rows, 0)
  const out: EmbeddedSplit = { rows, dim, classes, logits: new Float32Array(rows * width), embeddings: new Float32Array(rows * dim), labels: new Uint32Array(rows), truncated: 0 }
  let at = 0
  for (const p of parts) {
    out.embeddings.set(p.embeddings, at * dim)
    out.logits.set(p.logits, at * width)
    out.labels.set(p.labels, at)
    out.truncated += p.truncated
    at += p.rows
  }
  return out
}

/** A subset of a split's rows, in the order given. */
export function pickRows(split: EmbeddedSplit, rows: readonly number[]): EmbeddedSplit {
  const { dim, classes } = split
  const width = split.logits.length / Math.max(1, split.rows)
  return {
    rows: rows.length,
    dim,
    classes,
    embeddings: Float32Array.from(rows.flatMap((r) => [...split.embeddings.subarray(r * dim, (r + 1) * dim)])),
    logits: Float32Array.from(rows.flatMap((r) => [...split.logits.subarray(r * width, (r + 1) * width)])),
    labels: Uint32Array.from(rows, (r) => split.labels[r]),
    truncated: 0,
  }
}

/** The k-NN vote (weights as ResMem's, float32 keys) of `memory` for every row of `test`: predicted labels. */
export function knnLabels(memory: EmbeddedSplit, test: EmbeddedSplit, p: KnnParams, labels: readonly string[]): string[] {
  const nb = findNeighbors(memory, test, p.k)
  return [...knnPredict(memory, nb, test.rows, p)].map((c) => labels[c])
}

/** TF-IDF + logistic regression fitted on `train` over `labels`, then its label for each test text. */
export function tfidfLrLabels(train: readonly LabelledExample[], test: readonly string[], labels: readonly string[], lambda: number): string[] {
  const id = new Map(labels.map((l, i) => [l, i]))
  const model = trainLogisticRegression(train.map((e) => e.text), Uint32Array.from(train, (e) => id.get(e.label)!), labels.length, lambda)
  return test.map((t) => labels[argmax(logisticRegressionProbabilities(model, t))])
}

/** The L2 penalty of `resmem eval`'s grid with the best accuracy on `val` (ties: the first). */
export function chooseLambda(train: readonly LabelledExample[], val: readonly LabelledExample[], labels: readonly string[], grid = [1e-5, 1e-4, 1e-3]): { lambda: number; valAccuracy: number } {
  let best = { lambda: grid[0], valAccuracy: -1 }
  for (const lambda of grid) {
    const predicted = tfidfLrLabels(train, val.map((e) => e.text), labels, lambda)
    const acc = predicted.filter((p, i) => p === val[i].label).length / val.length
    if (acc > best.valAccuracy) best = { lambda, valAccuracy: acc }
  }
  return best
}
