import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { formatJsonl } from './jsonl.ts'
import { SPLIT_NAMES, type SplitFractions, type SplitName, type Splits } from './split.ts'

/** data/<name>/info.json: enough to tell whether two prepared copies are the same and where they came from. */
export interface DatasetInfo {
  dataset: string
  /** An npm package and version, or a user file and its sha256. */
  source: Record<string, string>
  seed: number
  split: Record<SplitName, number>
  labels: string[]
  /** Examples per split per label (every label listed in every split, 0 included). */
  counts: Record<SplitName, Record<string, number>>
  /** sha256 (hex) of each split file's bytes. */
  sha256: Record<SplitName, string>
  /** What cleaning dropped, and dataset-specific details (e.g. the languages). */
  details: Record<string, unknown>
}

export interface WriteOptions {
  dataset: string
  source: Record<string, string>
  seed: number
  fractions: SplitFractions
  details?: Record<string, unknown>
}

export function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex')
}

/**
 * Writes train.jsonl, val.jsonl, test.jsonl and info.json into `outDir`. Nothing time- or machine-dependent
 * goes into info.json, so the same input and seed give the same bytes everywhere.
 */
export async function writeDataset(outDir: string, splits: Splits, options: WriteOptions): Promise<DatasetInfo> {
  await mkdir(outDir, { recursive: true })
  const labels = [...new Set(SPLIT_NAMES.flatMap((s) => splits[s].map((e) => e.label)))].sort()
  const counts = {} as DatasetInfo['counts']
  const hashes = {} as DatasetInfo['sha256']
  for (const name of SPLIT_NAMES) {
    const content = formatJsonl(splits[name])
    await writeFile(join(outDir, `${name}.jsonl`), content)
    hashes[name] = sha256(content)
    counts[name] = Object.fromEntries(labels.map((l) => [l, 0]))
    for (const ex of splits[name]) counts[name][ex.label]++
  }
  const [train, val, test] = options.fractions
  const info: DatasetInfo = {
    dataset: options.dataset,
    source: options.source,
    seed: options.seed,
    split: { train, val, test },
    labels,
    counts,
    sha256: hashes,
    details: options.details ?? {},
  }
  await writeFile(join(outDir, 'info.json'), JSON.stringify(info, null, 2) + '\n')
  return info
}
