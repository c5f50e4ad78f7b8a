/** The new-label section of the bench report: the curve as a table, the n reaching 50% / 80% recall. */
import type { NewLabelBench } from './index.ts'
import type { CurveRow } from './rows.ts'

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(digits)}%`)

/** One markdown-ish table row per curve row (docs/labels-bench.md and the README use the same columns). */
export function curveTable(rows: readonly CurveRow[]): string[] {
  const out = ['| method | n | taught | new recall | new precision | old accuracy | old before |', '|---|---|---|---|---|---|---|']
  for (const r of rows) out.push(`| ${r.method} | ${r.n} | ${r.taught} | ${pct(r.new_recall)} | ${pct(r.new_precision)} | ${pct(r.old_accuracy, 2)} | ${pct(r.old_accuracy_before, 2)} |`)
  return out
}

export function formatNewLabel(b: NewLabelBench): string[] {
  const s = (x: number | undefined) => (x === undefined ? '-' : `${x.toFixed(0)} s`)
  const out = [
    `A new label (langid, held out of the base: ${b.holdOut.join(', ')}; ${b.counts.testNew} of their test texts, ${b.counts.testOld} old-language ones):`,
    `   base without them: train ${s(b.base.seconds.train)}, build ${s(b.base.seconds.build)}${b.base.reused ? ' (reused from an earlier run)' : ''}; memory served ${b.base.memoryOn ? 'on' : 'off'}`,
    b.unfamiliarBefore ? `   before teaching, ${b.unfamiliarBefore.unfamiliar} of ${b.unfamiliarBefore.texts} held-out-language test texts were unfamiliar (${pct(b.unfamiliarBefore.share)})` : '   resmem: not measured',
    ...curveTable(b.rows).map((l) => `   ${l}`),
    `   n reaching 50% / 80% new-language recall: ${Object.entries(b.reaches).map(([m, r]) => `${m} ${r.recall50 ?? '-'} / ${r.recall80 ?? '-'}`).join('; ')}`,
  ]
  if (b.confusions?.length) out.push(`   resmem at n=20, old-language texts answered with a new label: ${b.confusions.map((c) => `${c.truth}->${c.predicted} ${c.texts}`).join(', ')}`)
  if (b.retrain) out.push(`   retrain (n=${b.retrain.n}): train ${s(b.retrain.seconds.train)}, build ${s(b.retrain.seconds.build)}`)
  if (b.oldAccuracyAfterForget !== undefined) out.push(`   old-language accuracy after the labels were removed again: ${pct(b.oldAccuracyAfterForget, 2)}; rows forgotten per n: ${Object.entries(b.forgotten).map(([n, f]) => `${n}: ${f}`).join(', ')}`)
  if (b.resmemError) out.push(`   resmem FAILED: ${b.resmemError}`)
  for (const note of b.notes) out.push(`   note: ${note}`)
  return out
}
