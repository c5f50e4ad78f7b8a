import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** The shipped defaults: a trained base model under models/, data prepared into data/, builds in artifacts/. */
export const DEFAULT_DATASETS = ['spam', 'langid'] as const
export type DefaultDataset = (typeof DEFAULT_DATASETS)[number]

export interface DefaultPaths {
  model: string
  data: string
  train: string
  val: string
  test: string
  artifacts: string
}

export function defaultPaths(name: DefaultDataset, root = '.'): DefaultPaths {
  const data = join(root, 'data', name)
  return {
    model: join(root, 'models', name),
    data,
    train: join(data, 'train.jsonl'),
    val: join(data, 'val.jsonl'),
    test: join(data, 'test.jsonl'),
    artifacts: join(root, 'artifacts', name),
  }
}

export function isDefaultDataset(name: string): name is DefaultDataset {
  return (DEFAULT_DATASETS as readonly string[]).includes(name)
}

/** Prepares data/<name> from its npm package when the split files are not there yet (deterministic). */
export async function ensurePrepared(name: DefaultDataset, root = '.'): Promise<DefaultPaths> {
  const paths = defaultPaths(name, root)
  if (![paths.train, paths.val, paths.test].every((f) => existsSync(f))) {
    const { run } = await import('../commands/prepare.ts')
    await run([name, '--out', paths.data])
  }
  return paths
}
