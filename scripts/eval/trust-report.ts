/**
 * The report's "answers you can trust" section (scripts/eval/trust.ts): OOD detection and conformal coverage
 * tables, novelty histograms in against out, and empirical coverage against 1 - alpha. Plain SVG, as report.ts.
 */
import type { TrustResult } from './trust.ts'

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd']
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
const pct = (x: number) => `${(100 * x).toFixed(1)}%`

/** Share of each set per novelty bin (each set's bars sum to 1), with the unfamiliar threshold marked. */
function histogram(sets: TrustResult['novelty'], threshold: number | undefined): string {
  const W = 520
  const H = 220
  const m = { l: 40, r: 10, t: 24, b: 36 }
  const max = Math.max(threshold ?? 0, ...sets.flatMap((s) => s.values.filter(Number.isFinite))) || 1
  const BINS = 30
  const share = sets.map((s) => {
    const counts = new Array<number>(BINS).fill(0)
    for (const v of s.values) if (Number.isFinite(v)) counts[Math.min(BINS - 1, Math.floor((v / max) * BINS))]++
    return counts.map((c) => c / Math.max(1, s.values.length))
  })
  const top = Math.max(...share.flat(), 1e-9)
  const x = (v: number) => m.l + (v / max) * (W - m.l - m.r)
  const y = (v: number) => H - m.b - (v / top) * (H - m.t - m.b)
  const bw = (W - m.l - m.r) / BINS
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="novelty histograms">`]
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">novelty (cosine distance to the nearest memory row)</text>`)
  for (const v of [0, max / 2, max]) parts.push(`<text x="${x(v)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${v.toFixed(3)}</text>`)
  share.forEach((bins, si) => bins.forEach((s, b) => s > 0 && parts.push(`<rect x="${(m.l + b * bw).toFixed(1)}" y="${y(s).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(0) - y(s)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}" fill-opacity="0.45"><title>${esc(sets[si].set)}: ${pct(s)}</title></rect>`)))
  if (threshold !== undefined) parts.push(`<line x1="${x(threshold)}" x2="${x(threshold)}" y1="${m.t}" y2="${H - m.b}" stroke="#000" stroke-dasharray="4 3"><title>unfamiliar beyond ${threshold}</title></line>`)
  parts.push('</svg>')
  return parts.join('')
}

/** Empirical coverage on test against the promised 1 - alpha (the diagonal). */
function coveragePlot(rows: TrustResult['coverage']): string {
  const S = 260
  const m = { l: 44, r: 10, t: 24, b: 36 }
  const all = rows.filter((r) => r.label === 'all').sort((a, b) => b.alpha - a.alpha)
  const lo = Math.min(0.6, ...all.map((r) => Math.min(r.coverage, 1 - r.alpha)))
  const x = (v: number) => m.l + ((v - lo) / (1 - lo)) * (S - m.l - m.r)
  const y = (v: number) => S - m.b - ((v - lo) / (1 - lo)) * (S - m.t - m.b)
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" role="img" aria-label="coverage against 1 - alpha">`]
  parts.push(`<text x="${S / 2}" y="16" text-anchor="middle" font-size="13">coverage on test vs 1 - alpha</text>`)
  parts.push(`<line x1="${x(lo)}" y1="${y(lo)}" x2="${x(1)}" y2="${y(1)}" stroke="#000" stroke-dasharray="4 3"/>`)
  for (const v of [lo, (lo + 1) / 2, 1]) parts.push(`<text x="${x(v)}" y="${S - m.b + 14}" text-anchor="middle" font-size="10">${v.toFixed(2)}</text><text x="${m.l - 4}" y="${y(v) + 4}" text-anchor="end" font-size="10">${v.toFixed(2)}</text>`)
  parts.push(`<path d="${all.map((r, i) => `${i ? 'L' : 'M'}${x(1 - r.alpha).toFixed(1)},${y(r.coverage).toFixed(1)}`).join('')}" fill="none" stroke="${COLORS[0]}" stroke-width="1.5"/>`)
  for (const r of all) parts.push(`<circle cx="${x(1 - r.alpha)}" cy="${y(r.coverage)}" r="3" fill="${COLORS[0]}"><title>alpha ${r.alpha}: coverage ${pct(r.coverage)}, mean set size ${r.meanSetSize.toFixed(3)}</title></circle>`)
  parts.push('</svg>')
  return parts.join('')
}

/** The section, or nothing for a build without locality or conformal fields. */
export function renderTrust(trust: TrustResult, threshold: number | undefined, tableAlphas: readonly number[] = [0.1, 0.05]): string {
  const ood = trust.ood
    .map((r) => `<tr><td>${esc(r.out)}</td><td>${r.score}</td><td>${r.auroc.toFixed(3)}</td><td>${pct(r.fpr95)}</td><td>${r.flagged === undefined ? '' : `${pct(r.flagged)} / ${pct(r.inFlagged!)}`}</td><td>${r.inCount} / ${r.outCount}</td></tr>`)
    .join('\n')
  const cov = trust.coverage
    .filter((r) => tableAlphas.includes(r.alpha))
    .map((r) => `<tr><td>${r.alpha}</td><td>${esc(r.label)}</td><td>${pct(r.coverage)}</td><td>${r.meanSetSize.toFixed(3)}</td><td>${r.count}</td></tr>`)
    .join('\n')
  return `<h2>Unfamiliar texts: novelty against max-softmax and energy (test split in, each set out)</h2>
<p>AUROC of telling out from in; FPR at 95% TPR: share of out texts a threshold keeping 95% of test texts lets through. "Unfamiliar": share flagged by the served threshold (fitted on val), out / test.</p>
<table><thead><tr><th>out set</th><th>score</th><th>AUROC</th><th>FPR@95%TPR</th><th>unfamiliar out / in</th><th>n in / out</th></tr></thead><tbody>
${ood}
</tbody></table>
<div class="panels">${histogram(trust.novelty, threshold)}</div>
<p>${trust.novelty.map((s, i) => `<span style="color:${COLORS[i % COLORS.length]}">&#9632; ${esc(s.set)}</span>`).join(' ')} &mdash; dashed: the unfamiliar threshold.</p>
<h2>Prediction sets: split conformal (LAC) coverage on test</h2>
<table><thead><tr><th>alpha</th><th>label</th><th>coverage</th><th>mean set size</th><th>n</th></tr></thead><tbody>
${cov}
</tbody></table>
<div class="panels">${coveragePlot(trust.coverage)}</div>
`
}
