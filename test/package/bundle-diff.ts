/**
 * What differs between two bundle folders, in words a failing test can print: a missing file, a JSON field by
 * its path ("manifest.json versions.onnxruntime-node: 1.30.0 here, 1.31.1 there"), or a binary file by size and
 * first differing byte. An empty list means the folders hold the same files with the same bytes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort()
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'absent')

/** Leaf-by-leaf differences of two parsed JSON values, each as "path: here, there". */
export function jsonDifferences(here: unknown, there: unknown, path = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
  if (isObject(here) && isObject(there) && Array.isArray(here) === Array.isArray(there)) {
    const keys = [...new Set([...Object.keys(here), ...Object.keys(there)])]
    return keys.flatMap((k) => jsonDifferences(here[k], there[k], path ? `${path}.${k}` : k))
  }
  if (JSON.stringify(here) === JSON.stringify(there)) return []
  return [`${path || '(root)'}: ${show(here)} here, ${show(there)} there`]
}

/** Differences of two byte strings of one file; JSON files field by field (bytes too, when the fields agree). */
export function fileDifferences(file: string, here: Buffer, there: Buffer): string[] {
  if (here.equals(there)) return []
  if (file.endsWith('.json')) {
    try {
      const fields = jsonDifferences(JSON.parse(here.toString('utf8')), JSON.parse(there.toString('utf8')))
      if (fields.length > 0) return fields.map((d) => `${file} ${d}`)
    } catch {
      // Not JSON after all: compared as bytes below.
    }
  }
  let at = 0
  while (at < Math.min(here.length, there.length) && here[at] === there[at]) at++
  return [`${file}: ${here.length} bytes here, ${there.length} there, first difference at byte ${at}`]
}

/** Every difference between bundle folders `here` and `there`. */
export function bundleDifferences(here: string, there: string): string[] {
  const mine = new Set(filesUnder(here))
  const theirs = new Set(filesUnder(there))
  const out: string[] = []
  for (const f of mine) if (!theirs.has(f)) out.push(`${f}: here, not there`)
  for (const f of theirs) if (!mine.has(f)) out.push(`${f}: there, not here`)
  for (const f of mine) if (theirs.has(f)) out.push(...fileDifferences(f, readFileSync(join(here, f)), readFileSync(join(there, f))))
  return out
}
