/**
 * The demo page: classify a text in this browser (createClassifier, a Web Worker) or on the edge
 * (POST /v1/classify on the worker serving the page), and show both answers the same way. "Correct it" teaches
 * the edge memory the right label (POST /v1/memory) and shows the edge's new answer; "Undo" forgets it.
 */
import { createClassifier, type BrowserClassifier, type Classification, type DevicePreference, type LabelScore, type LoadProgress } from '../index.ts'

/** The served bundle, as the worker exposes it to browsers. */
const MODEL_URL = '/v1/model/files/'

/** Score rows shown per table; a many-label model (language id) lists the rest as a count. */
const TOP_SCORES = 5

const EXAMPLES: Record<string, string> = {
  spam: 'Congratulations!!! You have been selected to receive a FREE $1000 gift card. Click here now to claim your prize before it expires. Limited time offer, act now!',
  ham: 'Hi Anna, thanks for sending the notes from Tuesday. I moved the design review to Thursday at 3pm; let me know if that clashes with anything on your side.',
}

type Where = 'browser' | 'edge'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const form = $<HTMLFormElement>('form')
const text = $<HTMLTextAreaElement>('text')
const deviceSelect = $<HTMLSelectElement>('device')
const submit = $<HTMLButtonElement>('classify')
const status = $<HTMLParagraphElement>('status')
const progress = $<HTMLProgressElement>('progress')
const resultSection = $<HTMLElement>('result')
const token = $<HTMLInputElement>('token')
const correctForm = $<HTMLFormElement>('correct')
const correctLabel = $<HTMLSelectElement>('correct-label')
const correctSubmit = $<HTMLButtonElement>('correct-submit')
const undoButton = $<HTMLButtonElement>('undo')
const correctStatus = $<HTMLParagraphElement>('correct-status')
const newLabel = $<HTMLInputElement>('new-label')
const newLabelSubmit = $<HTMLButtonElement>('new-label-submit')

/** The text of the result on show, and the example learned from it (for Undo). */
let shown: { text: string; result: Classification } | undefined
let learned: { id: string; text: string; label: string; inPage?: string } | undefined
/** Labels added on this page (at the edge and in the page's memory), offered to correct to. */
const addedLabels = new Set<string>()

let classifier: Promise<BrowserClassifier> | undefined

const pct = (x: number) => `${(x * 100).toFixed(1)}%`
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`)
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const fileName = (url: string) => new URL(url).pathname.split('/').slice(-2).join('/')

function setStatus(message: string, isError = false): void {
  status.textContent = message
  status.classList.toggle('error', isError)
}

function showProgress(p: LoadProgress): void {
  if (p.stage === 'device') setStatus(`Using ${p.device === 'webgpu' ? 'WebGPU' : 'WASM'} (${p.reason}).`)
  else if (p.stage === 'download') {
    progress.hidden = false
    if (p.total) {
      progress.max = p.total
      progress.value = p.loaded
    } else progress.removeAttribute('value')
    setStatus(`${p.cached ? 'Reading from the cache' : 'Downloading'} ${fileName(p.url)}: ${mb(p.loaded)}${p.total ? ` of ${mb(p.total)}` : ''}`)
  } else if (p.stage === 'init') setStatus({ onnxruntime: 'Starting onnxruntime-web…', session: 'Creating the model session…', memory: 'Indexing the memory…' }[p.step])
}

/** The in-browser classifier for the selected device, loaded once per device choice. */
function browserClassifier(): Promise<BrowserClassifier> {
  if (classifier) return classifier
  const device = deviceSelect.value as DevicePreference
  setStatus('Loading the model…')
  // Behind an API_TOKEN the model files need the token too: the one typed above, if any.
  const value = token.value.trim()
  classifier = createClassifier({ modelUrl: MODEL_URL, device, onProgress: showProgress, ...(value ? { headers: { authorization: `Bearer ${value}` } } : {}) }).then(
    (c) => {
      const { info } = c
      progress.hidden = true
      const labels = info.labels.length <= 6 ? info.labels.join(' / ') : `${info.labels.length} labels`
      setStatus(`Ready: ${info.model} (${labels}), ${info.memoryRows} memorized examples, k = ${info.params.k}.`)
      $('runtime-device').textContent = `${info.device === 'webgpu' ? 'WebGPU' : 'WASM'} (${info.deviceReason})`
      $('runtime-device').dataset.device = info.device
      $('runtime-ort').textContent = info.onnxruntime
      $('runtime-knn').textContent = info.knn === 'simd' ? 'SIMD wasm k-NN kernel' : `TypeScript reference (${info.knnReason ?? ''})`
      $('runtime-load').textContent = ms(info.loadMs)
      const model = [...info.files.network, ...info.files.cache].find((u) => u.endsWith('.onnx'))
      const fromCache = model !== undefined && info.files.cache.includes(model)
      $('runtime-files').textContent = `${info.files.cache.length} from the browser cache, ${info.files.network.length} downloaded; the model ${fromCache ? 'came from the cache' : 'was downloaded'}`
      $('runtime-files').dataset.modelCached = String(fromCache)
      return c
    },
    (err: unknown) => {
      classifier = undefined
      progress.hidden = true
      const message = (err as Error).message
      const hint = /HTTP 401/.test(message) ? ' This worker sets API_TOKEN: type the token above, then classify again.' : ''
      setStatus(`Could not load the model in this browser: ${message}.${hint}`, true)
      throw err
    },
  )
  return classifier
}

/** JSON headers, with the API token when one is typed (the worker asks for it when its API_TOKEN is set). */
function apiHeaders(): Record<string, string> {
  const value = token.value.trim()
  return value ? { 'content-type': 'application/json', authorization: `Bearer ${value}` } : { 'content-type': 'application/json' }
}

/** An API call's JSON body, or an Error with the worker's message. */
async function api<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, headers: apiHeaders() })
  const body = (await res.json().catch(() => ({}))) as T | { error?: { message: string } }
  if (!res.ok) throw new Error((body as { error?: { message: string } }).error?.message ?? `HTTP ${res.status}`)
  return body as T
}

function classifyAtEdge(input: string): Promise<Classification> {
  return api<Classification>('/v1/classify?explain=1', { method: 'POST', body: JSON.stringify({ text: input }) })
}

function fillScores(tableId: string, scores: LabelScore[]): void {
  const body = $(tableId).querySelector('tbody')!
  const rest = scores.length - TOP_SCORES
  const rows = scores.slice(0, TOP_SCORES).map((s) => {
    const tr = document.createElement('tr')
    const label = document.createElement('td')
    label.textContent = s.label
    const score = document.createElement('td')
    score.className = 'num'
    score.textContent = pct(s.score)
    tr.append(label, score)
    return tr
  })
  if (rest > 0) {
    const tr = document.createElement('tr')
    const td = document.createElement('td')
    td.colSpan = 2
    td.textContent = `${rest} more labels (see the raw result)`
    tr.append(td)
    rows.push(tr)
  }
  body.replaceChildren(...rows)
}

let rendered = 0

function render(text: string, result: Classification, where: Where, elapsed: number): void {
  shown = { text, result }
  $('result-body').hidden = false
  resultSection.dataset.where = where
  resultSection.dataset.count = String(++rendered)
  const resmem = $('resmem-label')
  resmem.textContent = `${result.label} (${pct(result.score)})`
  resmem.dataset.label = result.label
  const base = $('base-label')
  base.textContent = `${result.base.label} (${pct(result.base.score)})`
  base.dataset.label = result.base.label
  fillScores('resmem-scores', result.scores)
  fillScores('base-scores', result.base.scores)
  const changed = result.label !== result.base.label ? ' The memory changed the base model’s answer.' : ''
  const set = result.set ? ` Prediction set: {${result.set.join(', ')}}.` : ''
  const unfamiliar = result.unfamiliar ? ' Unfamiliar text.' : ''
  $('result-summary').textContent = `${where === 'browser' ? 'In this browser' : 'On the edge'}, ${ms(elapsed)}: ${result.label}.${changed}${unfamiliar}${set}${result.truncated ? ' The text was cut to the model’s maximum length.' : ''}`
  // An unfamiliar text: nothing the memory holds is near it, so the answer may be confidently wrong.
  const warning = $('unfamiliar')
  warning.hidden = !result.unfamiliar
  warning.textContent = result.unfamiliar
    ? `Unfamiliar: this text is farther from every memorized example (novelty ${result.novelty!.toFixed(3)}) than 95% of the validation texts are, so “${result.label}” may well be wrong. If it is, correct it below.`
    : ''
  const rows = (result.neighbors ?? []).map((n) => {
    const tr = document.createElement('tr')
    for (const [value, numeric] of [[n.source === 'edit' ? `edit ${n.id}` : String(n.row), true], [n.label, false], [n.similarity.toFixed(3), true], [n.weight.toFixed(3), true]] as const) {
      const td = document.createElement('td')
      td.textContent = value
      if (numeric) td.className = 'num'
      tr.append(td)
    }
    return tr
  })
  $('neighbors').querySelector('tbody')!.replaceChildren(...rows)
  $('raw').textContent = JSON.stringify(result, null, 2)
  $(`latency-${where}`).textContent = ms(elapsed)
  // The labels to correct to; the likely correction (another label than the answer) first.
  const labels = [...new Set([...result.scores.map((s) => s.label), ...addedLabels])].sort()
  if (correctLabel.dataset.labels !== labels.join('\n')) {
    correctLabel.replaceChildren(...labels.map((label) => Object.assign(document.createElement('option'), { value: label, textContent: label })))
    correctLabel.dataset.labels = labels.join('\n')
  }
  if (learned?.text !== text) {
    correctLabel.value = labels.find((l) => l !== result.label) ?? labels[0]
    undoButton.hidden = true
    correctStatus.textContent = ''
  }
}

function setCorrectStatus(message: string, isError = false): void {
  correctStatus.textContent = message
  correctStatus.classList.toggle('error', isError)
}

const verdict = (r: Classification) => `${r.label} (${pct(r.score)})`

/** Classifies `text` on the edge again and shows it; returns the answer. */
async function showEdge(text: string): Promise<Classification> {
  const t0 = performance.now()
  const result = await classifyAtEdge(text)
  render(text, result, 'edge', performance.now() - t0)
  return result
}

/** "Correct it": POST /v1/memory with the chosen label, then the edge's new answer. */
async function correct(): Promise<void> {
  if (!shown) return
  const { text, result: before } = shown
  const label = correctLabel.value
  correctSubmit.disabled = true
  setCorrectStatus('Teaching the edge memory…')
  try {
    const { ids } = await api<{ ids: string[] }>('/v1/memory', { method: 'POST', body: JSON.stringify({ examples: [{ text, label }] }) })
    // The page's own memory learns it too (once loaded), so "In this browser" answers as the edge does.
    const inPage = await learnInPage(text, label)
    learned = { id: ids[0], text, label, ...(inPage ? { inPage } : {}) }
    correctForm.dataset.learned = ids[0]
    const after = await showEdge(text)
    undoButton.hidden = false
    setCorrectStatus(`Learned this text as “${label}” (example ${ids[0]}). The edge now answers ${verdict(after)}; before: ${verdict(before)}.`)
  } catch (err) {
    setCorrectStatus(`Could not correct it: ${(err as Error).message}`, true)
  } finally {
    correctSubmit.disabled = false
  }
}

/** Teaches the page's memory (when its model is loaded) what the edge learned; a label added before it loaded is added now. */
async function learnInPage(input: string, label: string): Promise<string | undefined> {
  if (!classifier) return undefined
  try {
    const c = await classifier
    if (!(await c.labels()).some((l) => l.label === label)) await c.addLabel(label)
    return (await c.learn([{ text: input, label }]))[0]
  } catch {
    return undefined // the edge learned it; the page's memory is a convenience
  }
}

/** "Undo": DELETE /v1/memory/{id}, then the edge's answer without it. */
async function undo(): Promise<void> {
  if (!learned) return
  const { id, text } = learned
  undoButton.disabled = true
  try {
    await api(`/v1/memory/${encodeURIComponent(id)}`, { method: 'DELETE' })
    if (learned.inPage && classifier) await (await classifier).forget([learned.inPage])
    learned = undefined
    delete correctForm.dataset.learned
    const after = await showEdge(text)
    setCorrectStatus(`Forgot example ${id}. The edge answers ${verdict(after)} again.`)
  } catch (err) {
    setCorrectStatus(`Could not undo: ${(err as Error).message}`, true)
  } finally {
    undoButton.disabled = false
  }
}

/** "Add label": a label the model never saw, at the edge (POST /v1/labels) and in the page's memory; then offered to correct to. */
async function addLabel(): Promise<void> {
  const label = newLabel.value.trim()
  if (!label) return
  newLabelSubmit.disabled = true
  try {
    await api('/v1/labels', { method: 'POST', body: JSON.stringify({ label }) })
    if (classifier) await (await classifier).addLabel(label)
    addedLabels.add(label)
    if (![...correctLabel.options].some((o) => o.value === label)) correctLabel.append(Object.assign(document.createElement('option'), { value: label, textContent: label }))
    correctLabel.value = label
    newLabel.value = ''
    setCorrectStatus(`Added the label “${label}”. Correct a text to it to teach it.`)
  } catch (err) {
    setCorrectStatus(`Could not add the label: ${(err as Error).message}`, true)
  } finally {
    newLabelSubmit.disabled = false
  }
}

async function run(): Promise<void> {
  const input = text.value
  if (!input.trim()) {
    setStatus('Type or paste a text first.', true)
    text.focus()
    return
  }
  const where = (new FormData(form).get('where') as Where | null) ?? 'browser'
  submit.disabled = true
  resultSection.setAttribute('aria-busy', 'true')
  try {
    let result: Classification
    let elapsed: number
    if (where === 'browser') {
      const c = await browserClassifier()
      const t0 = performance.now()
      result = await c.classify(input, { explain: true })
      elapsed = performance.now() - t0
    } else {
      const t0 = performance.now()
      result = await classifyAtEdge(input)
      elapsed = performance.now() - t0
    }
    render(input, result, where, elapsed)
  } catch (err) {
    setStatus(`${where === 'browser' ? 'In-browser' : 'Edge'} classification failed: ${(err as Error).message}`, true)
  } finally {
    submit.disabled = false
    resultSection.setAttribute('aria-busy', 'false')
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  void run()
})
correctForm.addEventListener('submit', (event) => {
  event.preventDefault()
  void correct()
})
undoButton.addEventListener('click', () => void undo())
newLabelSubmit.addEventListener('click', () => void addLabel())
text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault()
    form.requestSubmit()
  }
})
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-example]')) {
  button.addEventListener('click', () => {
    text.value = EXAMPLES[button.dataset.example!]
    text.focus()
  })
}
// A load refused for want of a token (API_TOKEN) is tried again once one is typed; a loaded model stays.
token.addEventListener('change', () => {
  if (!classifier) browserClassifier().catch(() => undefined)
})
deviceSelect.addEventListener('change', () => {
  void classifier?.then((c) => c.dispose(), () => undefined)
  classifier = undefined
  browserClassifier().catch(() => undefined)
})

text.value = EXAMPLES.spam
// Start loading at once: by the time a text is typed, the model is usually ready.
browserClassifier().catch(() => undefined)
