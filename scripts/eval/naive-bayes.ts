/**
 * Multinomial naive Bayes on a bag of words: the classic text baseline users compare against. Written
 * here because it is ~40 lines and no maintained npm package does multinomial NB with Laplace smoothing
 * over our own tokenisation without pulling a framework.
 */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? []
}

export interface NaiveBayes {
  classes: number
  vocabulary: Map<string, number>
  /** log P(w | c), classes x vocabulary, row-major. */
  logLikelihood: Float64Array
  logPrior: Float64Array
  /** log P(unseen word | c). */
  logUnseen: Float64Array
}

export function trainNaiveBayes(texts: readonly string[], labels: ArrayLike<number>, classes: number, alpha = 1): NaiveBayes {
  const vocabulary = new Map<string, number>()
  const docs = texts.map((t) => words(t).map((w) => {
    let id = vocabulary.get(w)
    if (id === undefined) vocabulary.set(w, (id = vocabulary.size))
    return id
  }))
  const v = vocabulary.size
  const counts = new Float64Array(classes * v)
  const totals = new Float64Array(classes)
  const prior = new Float64Array(classes)
  docs.forEach((ids, i) => {
    const c = labels[i]
    prior[c]++
    for (const id of ids) counts[c * v + id]++
    totals[c] += ids.length
  })
  const logLikelihood = new Float64Array(classes * v)
  const logUnseen = new Float64Array(classes)
  const logPrior = new Float64Array(classes)
  for (let c = 0; c < classes; c++) {
    const denom = totals[c] + alpha * (v + 1)
    for (let w = 0; w < v; w++) logLikelihood[c * v + w] = Math.log((counts[c * v + w] + alpha) / denom)
    logUnseen[c] = Math.log(alpha / denom)
    logPrior[c] = Math.log((prior[c] + 1) / (texts.length + classes))
  }
  return { classes, vocabulary, logLikelihood, logPrior, logUnseen }
}

/** log P(c) + sum_w log P(w | c), per class. */
function logScores(nb: NaiveBayes, text: string): Float64Array {
  const v = nb.vocabulary.size
  const score = Float64Array.from(nb.logPrior)
  for (const w of words(text)) {
    const id = nb.vocabulary.get(w)
    for (let c = 0; c < nb.classes; c++) score[c] += id === undefined ? nb.logUnseen[c] : nb.logLikelihood[c * v + id]
  }
  return score
}

export function predictNaiveBayes(nb: NaiveBayes, text: string): number {
  const score = logScores(nb, text)
  let best = 0
  for (let c = 1; c < nb.classes; c++) if (score[c] > score[best]) best = c
  return best
}

/** The posterior P(c | text) (notoriously overconfident: the words are not independent). */
export function naiveBayesProbabilities(nb: NaiveBayes, text: string): Float64Array {
  const score = logScores(nb, text)
  const max = Math.max(...score)
  let sum = 0
  for (let c = 0; c < nb.classes; c++) sum += (score[c] = Math.exp(score[c] - max))
  for (let c = 0; c < nb.classes; c++) score[c] /= sum
  return score
}

/** Bytes of the fitted parameters as float32 (what a deployment would ship), vocabulary strings excluded. */
export function naiveBayesBytes(nb: NaiveBayes): number {
  return 4 * (nb.logLikelihood.length + 2 * nb.classes)
}
