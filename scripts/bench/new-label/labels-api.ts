/** The worker's labels API (POST/DELETE /v1/labels), as the bench drives it; any other status is an error naming it. */
import { BENCH_TOKEN } from '../memory.ts'

const AUTH = { authorization: `Bearer ${BENCH_TOKEN}` }

export interface ServedLabel {
  label: string
  source: 'model' | 'memory'
}

/** POST /v1/labels {"label"}: 201 with the served labels. */
export async function addLabel(url: URL, label: string): Promise<ServedLabel[]> {
  const res = await fetch(new URL('/v1/labels', url), { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ label }) })
  const body = await res.text()
  if (res.status !== 201) throw new Error(`POST /v1/labels ${label}: ${res.status} ${body.slice(0, 300)}`)
  return (JSON.parse(body) as { labels: ServedLabel[] }).labels
}

/** DELETE /v1/labels/{label}: how many learned rows it forgot. */
export async function removeLabel(url: URL, label: string): Promise<number> {
  const res = await fetch(new URL(`/v1/labels/${encodeURIComponent(label)}`, url), { method: 'DELETE', headers: AUTH })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`DELETE /v1/labels/${label}: ${res.status} ${body.slice(0, 300)}`)
  return (JSON.parse(body) as { forgotten: number }).forgotten
}

/** GET /v1/labels. */
export async function servedLabels(url: URL): Promise<ServedLabel[]> {
  const res = await fetch(new URL('/v1/labels', url))
  const body = await res.text()
  if (res.status !== 200) throw new Error(`GET /v1/labels: ${res.status} ${body.slice(0, 300)}`)
  return (JSON.parse(body) as { labels: ServedLabel[] }).labels
}
