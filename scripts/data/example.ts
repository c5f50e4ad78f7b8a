import { CliError, locate } from '../cli/errors.ts'

/** One labelled text: the row shape of every prepared JSONL file. */
export interface LabelledExample {
  text: string
  label: string
}

/** Where a record came from, so a bad value can be reported as `file:line: field "x": problem`. */
export interface RecordSource {
  file: string
  line: number
}

export interface FieldNames {
  textField: string
  labelField: string
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/**
 * Checks one parsed record (a JSON object or a CSV row) and returns it as a LabelledExample.
 * Numeric labels are accepted (CSV and many exports write classes as 0/1) and become strings.
 * Throws a CliError that names the file, the line and the field.
 */
export function toExample(record: unknown, source: RecordSource, fields: FieldNames): LabelledExample {
  const { file, line } = source
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new CliError(locate(file, line, undefined, `expected a JSON object, got ${describe(record)}`))
  }
  const row = record as Record<string, unknown>
  const { textField, labelField } = fields

  if (!Object.hasOwn(row, textField) || row[textField] === undefined) {
    throw new CliError(locate(file, line, textField, 'missing'))
  }
  const text = row[textField]
  if (typeof text !== 'string') {
    throw new CliError(locate(file, line, textField, `must be a string, got ${describe(text)}`))
  }
  if (text.trim() === '') throw new CliError(locate(file, line, textField, 'empty'))

  if (!Object.hasOwn(row, labelField) || row[labelField] === undefined) {
    throw new CliError(locate(file, line, labelField, 'missing'))
  }
  const raw = row[labelField]
  let label: string
  if (typeof raw === 'string') label = raw.trim()
  else if (typeof raw === 'number' && Number.isFinite(raw)) label = String(raw)
  else throw new CliError(locate(file, line, labelField, `must be a string or a number, got ${describe(raw)}`))
  if (label === '') throw new CliError(locate(file, line, labelField, 'empty'))

  return { text, label }
}
