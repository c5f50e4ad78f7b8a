/** The printed table and the small HTML report (inline SVG, no script) of a BenchResult. */
import { formatCost } from './cost.ts'
import { formatLearningBench } from './learning.ts'
import { formatPoisoningBench } from './poisoning.ts'
import { formatScale } from './scale.ts'
import { formatMemoryBench } from './memory.ts'
import { formatNewLabel } from './new-label/report.ts'
import type { BenchResult, TargetCheck } from './result.ts'
import { TARGETS } from './result.ts'

const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-')

function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

const verdict = (checks: TargetCheck[]) => (checks.length === 0 ? '-' : checks.every((c) => c.pass) ? 'pass' : 'FAIL')

export function formatBench(r: BenchResult): string {
  const out: string[] = []
  const m = r.machine
  out.push(
    `resmem bench ${r.startedAt}${r.quick ? ' (--quick)' : ''}: ${m.cpus} x ${m.cpuModel}, node ${m.node}, load average ${f(m.loadAvgStart[0], 2)} -> ${f(m.loadAvgEnd[0], 2)}, ${Math.round(r.seconds)} s`,
  )
  if (r.kernel) {
    const s = r.kernel.settings
    out.push('', `1. k-NN kernel: int8 keys, dim 128, k 10. GB/s of keys scanned per query, median of ${s.batches} interleaved ~${s.batchMs} ms batches; x ref = median time of the TypeScript reference / SIMD.`)
    out.push(`   Target: SIMD >= ${TARGETS.simdGbPerS} GB/s and >= ${TARGETS.simdOverReference}x the reference.`)
    const rows: string[][] = []
    const keys = [...new Set(r.kernel.rows.map((k) => `${k.runtime}|${k.rows}`))]
    for (const key of keys) {
      const [runtime, n] = key.split('|')
      const at = (impl: string) => r.kernel!.rows.find((k) => k.runtime === runtime && k.rows === Number(n) && k.impl === impl)
      const simd = at('simd')
      const ref = at('reference')
      const checks = r.targets.filter((t) => t.section === 'kernel' && t.name.startsWith(`${runtime} simd ${n} rows`))
      rows.push([
        runtime,
        n,
        f(simd?.gbPerS ?? NaN, 2),
        f(at('scalar')?.gbPerS ?? NaN, 2),
        f(ref?.gbPerS ?? NaN, 2),
        simd && ref ? f(ref.msPerQuery / simd.msPerQuery, 1) : '-',
        f(simd?.msPerQuery ?? NaN, 4),
        verdict(checks),
      ])
    }
    out.push(table(['runtime', 'rows', 'simd GB/s', 'scalar GB/s', 'ref GB/s', 'simd x ref', 'simd ms/query', 'target'], rows))
  }
  if (r.latency) {
    out.push('', `2. Worker (workerd via wrangler, 127.0.0.1), POST /v1/classify one text per request, sequential; base = ?k=0 (no memory search), resmem = ?k=${r.latency.map((l) => `${l.k} (${l.kFrom})`).join(', ')}: the served k, else the tuned k; same texts, interleaved. ms.`)
    out.push(`   Target: resmem / base <= ${TARGETS.resmemOverBase} (p50 and p99). paired = median over texts of resmem/base for the same text; added ms = median of`)
    out.push(`   resmem - base for the same text; healthz = p50 of GET /healthz, the loopback HTTP + wrangler dev proxy share of every request;`)
    out.push(`   net p50 = ratio p50 with healthz subtracted from both (roughly what a worker without the dev proxy would see).`)
    const rows = r.latency.map((l) => {
      const checks = r.targets.filter((t) => t.section === 'latency' && t.name.startsWith(`worker ${l.model} `))
      return [
        l.model,
        String(l.memoryRows),
        String(l.k),
        `${l.texts}x${l.rounds}`,
        f(l.variants.base.p50),
        f(l.variants.base.p99),
        f(l.variants.resmem.p50),
        f(l.variants.resmem.p99),
        f(l.ratio.p50, 3),
        f(l.ratio.p99, 3),
        f(l.ratio.pairedMedian, 3),
        f(l.ratio.netP50, 3),
        f(l.paired.resmem?.medianAddedMs ?? NaN, 2),
        f(l.healthzP50, 1),
        String(l.errors),
        verdict(checks),
      ]
    })
    out.push(table(['memory', 'rows', 'k', 'texts x rounds', 'base p50', 'base p99', 'resmem p50', 'resmem p99', 'ratio p50', 'ratio p99', 'paired', 'net p50', 'added ms', 'healthz', 'errors', 'target'], rows))
  }
  if (r.node) {
    const { runs, k } = r.node
    out.push('', `3. Node in-process, one text per call, same ${runs[0]?.texts ?? 0} texts x ${runs[0]?.rounds ?? 1} rounds, interleaved: our library (onnxruntime-node + SIMD k-NN; k=0 and k=${k}) vs a`)
    out.push(`   transformers.js text-classification pipeline on the same bundle folder (same model.onnx, same onnxruntime-node and session options, 256-token`)
    out.push(`   truncation). threads=1: one ORT thread each (as the worker); default: ORT's own thread count. ms per text.`)
    out.push(`   Target: ours no slower (ours / transformers.js <= 1 at p50 and p99). paired = median over texts of ours/theirs for the same text.`)
    const rows: string[][] = []
    for (const n of runs) {
      const t = n.variants['transformers.js']
      for (const [name, s] of Object.entries(n.variants)) {
        const theirs = name === 'transformers.js'
        const mine = theirs ? [] : r.targets.filter((c) => c.section === 'node' && c.name.startsWith(`node threads=${n.threads} ${name} /`))
        rows.push([
          n.threads,
          name,
          f(s.p50, 2),
          f(s.p99, 2),
          f(s.mean, 2),
          theirs ? '-' : f(s.p50 / t.p50, 3),
          theirs ? '-' : f(s.p99 / t.p99, 3),
          theirs ? '-' : f(n.pairedRatioVsTransformers[name] ?? NaN, 3),
          theirs ? '-' : verdict(mine),
        ])
      }
    }
    out.push(table(['threads', 'impl', 'p50', 'p99', 'mean', '/tjs p50', '/tjs p99', 'paired', 'target'], rows, 2))
    for (const n of runs) out.push(`   threads=${n.threads}, same computation: top labels agree on ${n.agreement.labelsAgree}/${n.agreement.of} texts; max |score difference| at T=1 ${n.agreement.maxScoreDiffAtT1.toExponential(1)}`)
  }
  if (r.load) {
    const d = r.load[0]?.durationS
    out.push('', `4. Throughput: autocannon, POST /v1/classify {"text"} (ResMem targets with ?k= the served, else the tuned k), ~${f(d ?? NaN, 0)} s per run, targets interleaved per concurrency.`)
    out.push(`   The worker: workerd via wrangler dev (one isolate, one wasm thread); node:http servers: one process each, onnxruntime-node with 1 thread. Latency ms (1 ms resolution).`)
    out.push(`   Target: 0 errors, 0 timeouts, 0 non-2xx.`)
    const rows = r.load.map((l) => [l.target, String(l.connections), f(l.requestsPerS, 1), String(l.p50), String(l.p99), String(l.requests), String(l.errors), String(l.timeouts), String(l.non2xx), l.errors + l.timeouts + l.non2xx === 0 ? 'pass' : 'FAIL'])
    out.push(table(['target', 'conns', 'req/s', 'p50', 'p99', 'requests', 'errors', 'timeouts', 'non2xx', 'target'], rows))
  }
  if (r.memory) out.push('', `5. ${formatMemoryBench(r.memory).join('\n')}`)
  if (r.learning) out.push('', `6. ${formatLearningBench(r.learning).join('\n')}`)
  if (r.scale) out.push('', `7. ${formatScale(r.scale).join('\n')}`)
  if (r.poisoning) out.push('', `9. ${formatPoisoningBench(r.poisoning).join('\n')}`)
  if (r.newLabel) out.push('', `10. ${formatNewLabel(r.newLabel).join('\n')}`)
  if (r.cpu) {
    out.push('', `8. CPU per classify call, ms (p50 / p99 of ${r.cpu.rows[0]?.calls ?? 0} calls per text). Method: ${r.cpu.method}.`)
    out.push(`   Model bytes: fp32 ${r.cpu.modelBytes.fp32.toLocaleString('en')}, int8 ${r.cpu.modelBytes.int8.toLocaleString('en')}.`)
    out.push(table(['model', 'text', 'chars', 'tokens', 'cpu p50', 'cpu p99', 'wall p50'], r.cpu.rows.map((c) => [c.model, c.text, String(c.chars), String(c.tokens), f(c.cpu_ms_p50, 2), f(c.cpu_ms_p99, 2), f(c.wall_ms_p50, 2)]), 2))
  }
  const b = r.cpu?.budget
  if (b) {
    out.push(`   Budget ${b.record.budgetMs} ms (${b.record.method}; k=${b.record.k}): serves ${b.record.chosen.precision} at ${b.record.chosen.maxLength} tokens, ${b.record.met ? 'met' : 'NOT met'}. Candidates (max length: CPU p50 / p90 ms, val accuracy of ${b.record.examples}):`)
    out.push(`   ${b.record.candidates.map((c) => `${c.maxLength}: ${c.cpuMsP50} / ${c.cpuMsP90 ?? '-'} ms, ${(100 * c.valAccuracy).toFixed(2)}%`).join('; ')}`)
    out.push(`   Test accuracy (${b.test.examples}, the served answer): budgeted ${(100 * b.test.budgeted).toFixed(2)}%, unbudgeted ${(100 * b.test.unbudgeted).toFixed(2)}%.`)
  }
  if (r.cost) out.push('', `9. ${formatCost(r.cost).join('\n')}`)
  const failed = r.targets.filter((t) => !t.pass)
  out.push('', r.targets.length ? `Targets: ${r.targets.length - failed.length}/${r.targets.length} pass.` : 'Targets: none evaluated: FAIL (a run that checks nothing does not pass).')
  for (const t of failed) out.push(`  FAIL ${t.name}: ${f(t.value, 3)} (want ${t.op} ${t.limit})`)
  for (const x of r.failures) out.push(`  SECTION FAILED ${x.section}: ${x.message}`)
  for (const note of r.notes) out.push(`  note: ${note}`)
  return out.join('\n')
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)

/** Horizontal bars, one per item, on a linear or log axis. */
function bars(title: string, items: { label: string; value: number; mark?: number }[], unit: string, log = false): string {
  const W = 640
  const left = 230
  const rowH = 18
  const H = 28 + items.length * rowH
  const values = items.map((i) => i.value).filter((v) => v > 0)
  const max = Math.max(...values, ...items.map((i) => i.mark ?? 0))
  const min = log ? Math.min(...values) / 2 : 0
  const x = (v: number) => (log ? ((Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * (W - left - 60) : (v / max) * (W - left - 60))
  const rows = items.map((it, i) => {
    const y = 22 + i * rowH
    const w = Math.max(1, x(Math.max(it.value, min || 0)))
    const mark = it.mark ? `<line x1="${left + x(it.mark)}" x2="${left + x(it.mark)}" y1="${y - 2}" y2="${y + 14}" stroke="#c00" stroke-dasharray="3 2"/>` : ''
    return `<text x="${left - 6}" y="${y + 11}" text-anchor="end">${esc(it.label)}</text><rect x="${left}" y="${y}" width="${w}" height="12" fill="#4a7bd0"/><text x="${left + w + 4}" y="${y + 11}">${it.value.toFixed(2)} ${unit}</text>${mark}`
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11"><text x="4" y="13" font-weight="bold">${esc(title)}</text>${rows.join('')}</svg>`
}

export function renderHtml(r: BenchResult): string {
  const charts: string[] = []
  if (r.kernel) {
    charts.push(
      bars(
        'k-NN kernel GB/s (log scale; red: SIMD target)',
        r.kernel.rows.map((k) => ({ label: `${k.runtime} ${k.impl} ${k.rows}`, value: k.gbPerS, mark: k.impl === 'simd' ? TARGETS.simdGbPerS : undefined })),
        'GB/s',
        true,
      ),
    )
  }
  if (r.latency) {
    charts.push(
      bars(
        'Worker latency, ms (p50, p99)',
        r.latency.flatMap((l) => ['base', 'resmem'].flatMap((v) => [
          { label: `${l.model} ${v} p50`, value: l.variants[v].p50 },
          { label: `${l.model} ${v} p99`, value: l.variants[v].p99 },
        ])),
        'ms',
      ),
    )
  }
  if (r.node) charts.push(bars('Node in-process, ms per text (p50)', r.node.runs.flatMap((n) => Object.entries(n.variants).map(([name, s]) => ({ label: `threads=${n.threads} ${name}`, value: s.p50 }))), 'ms'))
  if (r.memory) charts.push(bars('Classify p50 with learned rows, ms', r.memory.stages.flatMap((st) => [{ label: `${st.editRows} rows base`, value: st.base.p50 }, { label: `${st.editRows} rows resmem`, value: st.resmem.p50 }]), 'ms'))
  if (r.newLabel) charts.push(bars('New label: new-language recall, % (red: the 80% target at n = 20)', r.newLabel.rows.map((x) => ({ label: `${x.method} n=${x.n}`, value: 100 * x.new_recall, mark: x.method === 'resmem' && x.n === 20 ? 80 : undefined })), '%'))
  if (r.load) charts.push(bars('Throughput, requests/s', r.load.map((l) => ({ label: `${l.target} c=${l.connections}`, value: l.requestsPerS })), 'req/s'))
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ResMem bench ${esc(r.startedAt)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}pre{font-size:12px;background:#f6f6f6;padding:1em;overflow:auto}svg{display:block;margin:1em 0}</style></head>
<body><h1>ResMem bench</h1>
${charts.join('\n')}
<pre>${esc(formatBench(r))}</pre>
<p>Raw numbers: bench.json.</p>
</body></html>
`
}
