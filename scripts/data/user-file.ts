import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { parse } from 'csv-parse/sync'
import { CliError, locate } from '../cli/errors.ts'
import { toExample, type FieldNames, type LabelledExample } from './example.ts'
import { parseLabelledJsonl } from './jsonl.ts'

export type UserFileFormat = 'jsonl' | 'csv'

/** The format of a user file, by extension: .jsonl/.ndjson/.json-lines or .csv. */
export function formatOf(file: string): UserFileFormat {
  const ext = extname(file).toLowerCase()
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl'
  if (ext === '.csv') return 'csv'
  throw new CliError(locate(file, undefined, undefined, `unknown extension "${ext}": expected .jsonl, .ndjson or .csv`))
}

interface CsvRecord {
  record: Record<string, string>
  info: { lines: number; columns: { name: string }[] }
}

/**
 * Parses CSV with a header row. Line numbers are where a record starts, counted like an editor does, even when
 * a quoted field spans lines. Short rows are allowed by the parser so that a missing cell is reported as
 * `field "label": missing` on its line, not as a column-count error.
 */
export function parseLabelledCsv(content: string, file: string, fields: FieldNames): LabelledExample[] {
  // CRLF is folded first: csv-parse counts lines differently with CR, and the text loses nothing by it.
  const input = content.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n')
  let records: CsvRecord[]
  try {
    records = parse(input, { columns: true, info: true, relax_column_count: true, skip_empty_lines: true }) as CsvRecord[]
  } catch (err) {
    const e = err as Error & { lines?: number }
    throw new CliError(locate(file, e.lines, undefined, `not valid CSV: ${e.message}`))
  }
  if (records.length > 0) {
    const columns = records[0].info.columns.map((c) => c.name)
    for (const field of [fields.textField, fields.labelField]) {
      // Checked once against the header, so a typo in --text-field is one clear message, not one per row.
      if (!columns.includes(field)) {
        throw new CliError(locate(file, 1, field, `no such column (columns: ${columns.join(', ')})`))
      }
    }
  }
  return records.map(({ record, info }) => {
    let newlines = 0
    for (const v of Object.values(record)) for (const ch of v) if (ch === '\n') newlines++
    return toExample(record, { file, line: info.lines - newlines }, fields)
  })
}

/** Reads a user's labelled JSONL or CSV file into examples; errors name file, line and field. */
export async function readUserFile(file: string, fields: FieldNames): Promise<LabelledExample[]> {
  const format = formatOf(file)
  let content: string
  try {
    content = await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(locate(file, undefined, undefined, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`))
  }
  const examples = format === 'csv' ? parseLabelledCsv(content, file, fields) : parseLabelledJsonl(content, file, fields)
  if (examples.length === 0) throw new CliError(locate(file, undefined, undefined, 'no examples'))
  return examples
}
