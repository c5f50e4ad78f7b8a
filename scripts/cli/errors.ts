/**
 * An error meant for the person at the terminal: printed as one message, no stack.
 * Name the file and, where there is one, the line and the field, so the user can fix the input.
 */
export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, exitCode = 2) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** Formats "file:line: field "x": problem" the way compilers do, so editors can jump to it. */
export function locate(file: string, line: number | undefined, field: string | undefined, problem: string): string {
  const where = line === undefined ? file : `${file}:${line}`
  return field === undefined ? `${where}: ${problem}` : `${where}: field "${field}": ${problem}`
}
