/** The benchmark's inputs: real texts of a test split, so lengths (and truncation) are what users send. */
import { existsSync, readFileSync } from 'node:fs'
import { CliError } from '../cli/errors.ts'

export function loadTexts(file: string, count: number): string[] {
  if (!existsSync(file)) throw new CliError(`${file} is missing (npx tsx scripts/resmem.ts prepare spam)`)
  const texts = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .slice(0, count)
    .map((line) => (JSON.parse(line) as { text: string }).text)
  if (texts.length === 0) throw new CliError(`${file} holds no texts`)
  return texts
}
