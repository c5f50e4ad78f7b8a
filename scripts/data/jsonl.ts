import { readFile } from 'node:fs/promises'
import { CliError, locate } from '../cli/errors.ts'
import { toExample, type FieldNames, type LabelledExample } from './example.ts'

/** Serialises examples as JSONL, one `{"text","label"}` object per line, keys always in that order. */
export function formatJsonl(examples: readonly LabelledExample[]): string {
  let out = ''
  for (const { text, label } of examples) out += JSON.stringify({ text, label }) + '\n'
  return out
}

/**
 * Parses JSONL text into examples. Blank lines are skipped; a BOM and CRLF line ends are tolerated
 * because spreadsheet tools and Windows editors add them.
 */
export function parseLabelledJsonl(content: string, file: string, fields: FieldNames): LabelledExample[] {
  const lines = content.replace(/^\uFEFF/, '').split('\n')
  const out: LabelledExample[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '')
    if (line.trim() === '') continue
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch (err) {
      throw new CliError(locate(file, i + 1, undefined, `not valid JSON: ${(err as Error).message}`))
    }
    out.push(toExample(record, { file, line: i + 1 }, fields))
  }
  return out
}

/**
 * Reads a prepared split (`{"text","label"}` per line), as the build and eval commands consume them.
 * Errors name the file, line and field, e.g. `data/spam/test.jsonl:3: field "label": missing`.
 */
export async function readLabelledJsonl(file: string): Promise<LabelledExample[]> {
  let content: string
  try {
    content = await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(locate(file, undefined, undefined, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`))
  }
  return parseLabelledJsonl(content, file, { textField: 'text', labelField: 'label' })
}
