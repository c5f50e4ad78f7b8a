/**
 * The learning curve's rows: from each test text's predicted and true label, how well the new labels are found
 * and what the old ones lose. Pure (test/scripts/bench/new-label.test.ts).
 */
/** resmem-searched: the worker with ?k= the tuned k, the built rows searched too (a diagnostic beside `resmem` as served). */
export const METHODS = ['resmem', 'resmem-searched', 'knn', 'tfidf-lr', 'retrain'] as const
export type Method = (typeof METHODS)[number]

export interface CurveRow {
  method: Method
  /** Sentences asked per held-out language. */
  n: number
  /** Sentences taught in all (fewer than n x labels when a language has fewer training rows than n). */
  taught: number
  /** Held-out-language test texts given their own label. */
  new_recall: number
  /** Test texts given a held-out label that are that language; null when no text got one. */
  new_precision: number | null
  /** Old-language test texts given their label, after teaching and before (the same method with nothing taught). */
  old_accuracy: number
  old_accuracy_before: number
}

export interface Scored {
  /** Predicted labels, one per test text (null: the answer abstained or had no label). */
  predicted: readonly (string | null)[]
  truth: readonly string[]
}

/** Old-language accuracy: texts whose true label is not a new one. */
export function oldAccuracy({ predicted, truth }: Scored, newLabels: readonly string[]): number {
  const isNew = new Set(newLabels)
  let right = 0, total = 0
  truth.forEach((t, i) => {
    if (isNew.has(t)) return
    total++
    if (predicted[i] === t) right++
  })
  return total ? right / total : NaN
}

export function curveRow(method: Method, n: number, taught: number, s: Scored, newLabels: readonly string[], oldAccuracyBefore: number): CurveRow {
  if (s.predicted.length !== s.truth.length) throw new Error(`${method} n=${n}: ${s.predicted.length} answers for ${s.truth.length} texts`)
  const isNew = new Set(newLabels)
  let newTexts = 0, found = 0, predictedNew = 0, predictedNewRight = 0
  s.truth.forEach((t, i) => {
    const p = s.predicted[i]
    if (isNew.has(t)) {
      newTexts++
      if (p === t) found++
    }
    if (p !== null && isNew.has(p)) {
      predictedNew++
      if (p === t) predictedNewRight++
    }
  })
  return {
    method,
    n,
    taught,
    new_recall: newTexts ? found / newTexts : NaN,
    new_precision: predictedNew ? predictedNewRight / predictedNew : null,
    old_accuracy: oldAccuracy(s, newLabels),
    old_accuracy_before: oldAccuracyBefore,
  }
}

/** Old-language texts answered with a new label, counted by (true label, answered label), most first. */
export function newLabelConfusions({ predicted, truth }: Scored, newLabels: readonly string[]): { truth: string; predicted: string; texts: number }[] {
  const isNew = new Set(newLabels)
  const counts = new Map<string, number>()
  truth.forEach((t, i) => {
    const p = predicted[i]
    if (!isNew.has(t) && p !== null && isNew.has(p)) counts.set(`${t}\t${p}`, (counts.get(`${t}\t${p}`) ?? 0) + 1)
  })
  return [...counts].map(([key, texts]) => ({ truth: key.split('\t')[0], predicted: key.split('\t')[1], texts })).sort((a, b) => b.texts - a.texts || a.truth.localeCompare(b.truth))
}

/** The smallest n at which `method` reaches `recall` (rows in any order); null when it never does. */
export function nReaching(rows: readonly CurveRow[], method: Method, recall: number): number | null {
  const hits = rows.filter((r) => r.method === method && r.new_recall >= recall).map((r) => r.n)
  return hits.length ? Math.min(...hits) : null
}

/** The targets at n = 20 for resmem: recall of the new labels, and old accuracy lost in points. */
export const NEW_LABEL_TARGETS = { n: 20, newRecall: 0.8, oldDropPoints: 0.5 } as const

export interface NewLabelCheck {
  name: string
  value: number
  op: '>=' | '<='
  limit: number
}

/** The checks the targets name, on the resmem row at n = 20; none when there is no such row (the caller fails that). */
export function newLabelChecks(rows: readonly CurveRow[]): NewLabelCheck[] {
  const row = rows.find((r) => r.method === 'resmem' && r.n === NEW_LABEL_TARGETS.n)
  if (!row) return []
  return [
    { name: `new-label resmem n=${row.n} new-language recall`, value: row.new_recall, op: '>=', limit: NEW_LABEL_TARGETS.newRecall },
    { name: `new-label resmem n=${row.n} old-language accuracy points lost`, value: 100 * (row.old_accuracy_before - row.old_accuracy), op: '<=', limit: NEW_LABEL_TARGETS.oldDropPoints },
  ]
}
