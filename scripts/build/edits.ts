/**
 * `resmem build --edits edits.jsonl`: folds a served memory's edit log (`resmem memory pull`) into the memory
 * just built from the training file. The log's rows are used as stored (never re-embedded), so the build must
 * be the one they were encoded for: the same model, and the same memory of the training file alone (which
 * fixes the key scale and T). The tuning never sees the edits: k, sigma and T stay what they were, so the
 * folded memory answers exactly as the served memory plus its log (src/memory/fold.ts).
 */
import { readFile } from 'node:fs/promises'
import { sha256Hex } from '../../src/memory/checksum.ts'
import { EditsFileError, parseEditsFile, type EditsFile } from '../../src/memory/edits-file.ts'
import { foldEdits, type Folded } from '../../src/memory/fold.ts'
import { writeMemory, type ResidualMemory } from '../../src/memory/format.ts'
import { CliError } from '../cli/errors.ts'

export interface EditsToFold extends EditsFile {
  file: string
}

const short = (sha: string) => `${sha.slice(0, 12)}…`

/** Reads and checks an edit log against the model before any embedding runs (a wrong file fails at once). */
export async function readEditsFile(file: string, model: { fingerprint: string; labels: readonly string[]; dim: number }): Promise<EditsToFold> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new CliError(`--edits ${file}: cannot be read (${(err as Error).message})`)
  }
  let parsed: EditsFile
  try {
    parsed = parseEditsFile(text, file)
  } catch (err) {
    if (err instanceof EditsFileError) throw new CliError(err.message)
    throw err
  }
  const { header } = parsed
  if (header.model !== model.fingerprint) {
    throw new CliError(`${file}: line 1: field "model": the edits were encoded by model ${short(header.model)}, this build's model is ${short(model.fingerprint)} (pull the log of a deployment of this model, or let a deployment of this model re-embed them)`)
  }
  if (header.labels.join('\n') !== model.labels.join('\n')) throw new CliError(`${file}: line 1: field "labels": [${header.labels.join(', ')}], this build's model has [${model.labels.join(', ')}]`)
  if (header.dim !== model.dim) throw new CliError(`${file}: line 1: field "dim": ${header.dim}, this build's keys have ${model.dim}`)
  return { ...parsed, file }
}

/** The built memory `base` with the log folded in; a log encoded for another memory is an error naming the field. */
export async function foldInto(edits: EditsToFold, base: ResidualMemory): Promise<Folded> {
  const baseSha = await sha256Hex(await writeMemory(base))
  const { header, file } = edits
  if (header.base !== baseSha) {
    const scale = base.keys.dtype === 'int8' ? base.keys.scale : NaN
    throw new CliError(
      `${file}: line 1: field "base": the edits were encoded for memory ${short(header.base)} (key scale ${header.keyScale}, T ${header.temperature}), this build's memory of the training file is ${short(baseSha)} (key scale ${scale}): ` +
        'build with the same model, training and validation files and options as the served bundle',
    )
  }
  return foldEdits(base, edits.ops, baseSha, { log: header.log })
}
