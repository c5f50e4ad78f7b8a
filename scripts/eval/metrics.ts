/** Classification metrics over class ids. */

export function accuracy(predicted: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (predicted.length !== truth.length) throw new RangeError('predictions and labels differ in length')
  let correct = 0
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++
  return truth.length ? correct / truth.length : 0
}

/** Unweighted mean of per-class F1 over the classes present in the truth or the predictions. */
export function macroF1(predicted: ArrayLike<number>, truth: ArrayLike<number>, classes: number): number {
  const tp = new Float64Array(classes)
  const fp = new Float64Array(classes)
  const fn = new Float64Array(classes)
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i] === truth[i]) tp[truth[i]]++
    else {
      fp[predicted[i]]++
      fn[truth[i]]++
    }
  }
  let sum = 0
  let n = 0
  for (let c = 0; c < classes; c++) {
    if (tp[c] + fp[c] + fn[c] === 0) continue
    sum += (2 * tp[c]) / (2 * tp[c] + fp[c] + fn[c])
    n++
  }
  return n ? sum / n : 0
}
