import type { ScoredPoint } from '../build/tune.ts'
import type { EvalResult } from './run.ts'
import { renderTrust } from './trust-report.ts'

/**
 * The eval report: the table, and validation accuracy over k and sigma (one panel per temperature).
 * Plain SVG written here: the report must open offline from a file, with no script or CDN, and a line
 * chart is a few dozen lines.
 */
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)

function panel(points: ScoredPoint[], temperature: number, yMin: number, yMax: number, best: ScoredPoint | undefined, baseAccuracy: number): string {
  const W = 320
  const H = 220
  const m = { l: 48, r: 10, t: 24, b: 36 }
  const ks = [...new Set(points.map((p) => p.k))].sort((a, b) => a - b)
  const sigmas = [...new Set(points.map((p) => p.sigma))].sort((a, b) => a - b)
  const lx = (k: number) => Math.log2(k)
  const x = (k: number) => m.l + ((lx(k) - lx(ks[0])) / Math.max(1e-9, lx(ks[ks.length - 1]) - lx(ks[0]))) * (W - m.l - m.r)
  const y = (a: number) => H - m.b - ((a - yMin) / Math.max(1e-9, yMax - yMin)) * (H - m.t - m.b)
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="validation accuracy over k at T=${temperature}">`]
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">T = ${temperature}</text>`)
  for (let i = 0; i <= 4; i++) {
    const a = yMin + ((yMax - yMin) * i) / 4
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(a)}" y2="${y(a)}" stroke="#eee"/><text x="${m.l - 4}" y="${y(a) + 4}" text-anchor="end" font-size="10">${a.toFixed(3)}</text>`)
  }
  for (const k of ks) parts.push(`<text x="${x(k)}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${k}</text>`)
  parts.push(`<text x="${(W + m.l) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">k (neighbours)</text>`)
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(baseAccuracy)}" y2="${y(baseAccuracy)}" stroke="#000" stroke-dasharray="4 3"><title>base model: ${baseAccuracy.toFixed(4)}</title></line>`)
  sigmas.forEach((sigma, si) => {
    const line = ks
      .map((k) => points.find((p) => p.k === k && p.sigma === sigma && p.temperature === temperature))
      .filter((p): p is ScoredPoint => p !== undefined)
    const d = line.map((p, i) => `${i ? 'L' : 'M'}${x(p.k).toFixed(1)},${y(p.accuracy).toFixed(1)}`).join('')
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS[si % COLORS.length]}" stroke-width="1.5"/>`)
  })
  if (best && best.temperature === temperature) parts.push(`<circle cx="${x(best.k)}" cy="${y(best.accuracy)}" r="5" fill="none" stroke="black" stroke-width="2"><title>chosen: k=${best.k} sigma=${best.sigma}</title></circle>`)
  parts.push('</svg>')
  return parts.join('')
}

/** Reliability diagram: accuracy against mean confidence per bin, bar width by bin; the diagonal is perfect calibration. */
function reliability(method: string, bins: EvalResult['reliability'][number]['bins'], color: string): string {
  const S = 240
  const m = { l: 40, r: 10, t: 24, b: 34 }
  const w = S - m.l - m.r
  const h = S - m.t - m.b
  const x = (v: number) => m.l + v * w
  const y = (v: number) => S - m.b - v * h
  const total = bins.reduce((n, b) => n + b.count, 0) || 1
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" role="img" aria-label="reliability diagram of ${esc(method)}">`]
  parts.push(`<text x="${S / 2}" y="16" text-anchor="middle" font-size="13">${esc(method)}</text>`)
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`)
  parts.push(`<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#000" stroke-dasharray="4 3"/>`)
  for (const v of [0, 0.5, 1]) parts.push(`<text x="${x(v)}" y="${S - m.b + 14}" text-anchor="middle" font-size="10">${v}</text><text x="${m.l - 4}" y="${y(v) + 4}" text-anchor="end" font-size="10">${v}</text>`)
  parts.push(`<text x="${(S + m.l) / 2}" y="${S - 4}" text-anchor="middle" font-size="11">confidence</text>`)
  for (const b of bins) {
    if (!b.count) continue
    const top = y(b.accuracy)
    parts.push(`<rect x="${x(b.low) + 1}" y="${top}" width="${Math.max(1, x(b.high) - x(b.low) - 2)}" height="${y(0) - top}" fill="${color}" fill-opacity="${(0.25 + 0.75 * Math.sqrt(b.count / total)).toFixed(2)}"><title>${b.low.toFixed(2)}-${b.high.toFixed(2)}: ${b.count} examples, confidence ${b.confidence.toFixed(3)}, accuracy ${b.accuracy.toFixed(3)}</title></rect>`)
    parts.push(`<circle cx="${x(b.confidence)}" cy="${y(b.accuracy)}" r="2.5" fill="#000"/>`)
  }
  parts.push('</svg>')
  return parts.join('')
}

export function renderReport(result: EvalResult): string {
  const baseValAccuracy = result.baseValAccuracy
  const grid = result.grid
  const temps = [...new Set(grid.map((p) => p.temperature))].sort((a, b) => a - b)
  const sigmas = [...new Set(grid.map((p) => p.sigma))].sort((a, b) => a - b)
  const accs = grid.map((p) => p.accuracy).concat(baseValAccuracy)
  const yMin = Math.max(0, Math.min(...accs) - 0.005)
  const yMax = Math.min(1, Math.max(...accs) + 0.005)
  const best = grid.length ? grid.reduce((a, b) => (b.accuracy > a.accuracy ? b : a)) : undefined
  const resmem = result.rows.find((r) => r.method === 'resmem-int8')
  const tuned = result.rows.find((r) => r.method.startsWith('resmem-int8') && r.params.k > 0) ?? resmem
  const chosen = tuned ? grid.find((p) => p.k === tuned.params.k && p.sigma === tuned.params.sigma && p.temperature === tuned.params.temperature) : best
  const legend = sigmas.map((s, i) => `<span style="color:${COLORS[i % COLORS.length]}">&#9632; sigma ${s}</span>`).join(' ')
  const rows = result.rows
    .map((r) => `<tr><td>${esc(r.method)}</td><td>${r.accuracy.toFixed(4)}</td><td>${r.accuracy_low.toFixed(4)}&ndash;${r.accuracy_high.toFixed(4)}</td><td>${r.macro_f1.toFixed(4)}</td><td>${r.ece.toFixed(4)}</td><td>${r.nll.toFixed(4)}</td><td>${r.brier.toFixed(4)}</td><td>${r.memory_bytes.toLocaleString('en')}</td><td>${r.build_seconds.toFixed(1)}</td><td>${esc(Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' '))}</td></tr>`)
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ResMem eval: ${esc(result.dataset)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.panels{display:flex;flex-wrap:wrap;gap:8px}</style>
</head><body>
<h1>ResMem eval: ${esc(result.dataset)}</h1>
<p>${result.examples.train} training examples memorized, settings tuned on ${result.examples.val} validation examples, scored on ${result.examples.test} test examples. Memory key: <code>${esc(result.key)}</code>.</p>
<p>Memory <b>${result.memory}</b> (decided on val): ${esc(result.decision.reason)}.${result.decision.alternative ? ` The expected-gain rule (recorded, not served) says <b>${result.decision.alternative.on ? 'on' : 'off'}</b>: ${esc(result.decision.alternative.reason)}.` : ''} resmem-int8 minus base on test: ${(100 * result.difference.estimate).toFixed(2)} points (95% paired bootstrap ${(100 * result.difference.low).toFixed(2)} to ${(100 * result.difference.high).toFixed(2)}).</p>
<table><thead><tr><th>method</th><th>accuracy</th><th>95% interval</th><th>macro-F1</th><th>ECE</th><th>NLL</th><th>Brier</th><th>memory bytes</th><th>build s</th><th>settings (from val)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Reliability of the scores the API returns (test; 15 equal-width bins)</h2>
<p>Bars: accuracy per confidence bin (darker: more examples); dots: mean confidence against accuracy; dashed: perfect calibration. Score temperatures fitted on val: memory ${result.calibration.memory}, base ${result.calibration.base}.</p>
<div class="panels">${result.reliability.map((r, i) => reliability(`${r.method} (ECE ${result.rows.find((x) => x.method === r.method)?.ece.toFixed(4) ?? '?'})`, r.bins, COLORS[i % COLORS.length])).join('\n')}</div>
<h2>Validation accuracy of ResMem over k and sigma (float32 memory; the int8 memory ships at the circled point)</h2>
<p>${legend} &mdash; base model on val: ${baseValAccuracy.toFixed(4)} (dashed). The circle marks the setting the build chose.</p>
<div class="panels">${temps.map((t) => panel(grid, t, yMin, yMax, chosen, baseValAccuracy)).join('\n')}</div>
${result.trust ? renderTrust(result.trust.result, result.trust.threshold) : ''}</body></html>
`
}
