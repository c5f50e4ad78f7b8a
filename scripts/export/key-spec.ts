/**
 * What ResMem keys its memory on: which tensor of the graph, pooled how.
 *
 *   'penultimate'            the input of the final classifier layer (the paper's key; the default)
 *   'mean-last-hidden'       attention-mask-weighted mean of the last encoder layer's [B, S, H] output
 *   'mean-word-embeddings'   attention-mask-weighted mean of the word-embedding lookup of input_ids
 *   { tensor, pooling }      any tensor: 'none' for a [B, H] tensor, 'mean' or 'cls' (position 0) for [B, S, H]
 *   [part, part, ...]        the parts side by side, each L2-normalised first so that no part dominates
 *
 * On the command line the same is written `penultimate`, `mean(<tensor>)`, `cls(<tensor>)`,
 * `none(<tensor>)`, joined by `+` or `,`: e.g. `penultimate+mean-last-hidden+mean-word-embeddings`.
 * addKeyOutput describes a resolved key in the same words (presets replaced by their tensors), so
 * parseKeySpec reads a manifest's key back.
 */
import { InvalidKeySpecError } from './errors.ts'

export type Pooling = 'none' | 'mean' | 'cls'
export const POOLINGS: readonly Pooling[] = ['none', 'mean', 'cls']

export interface TensorKey {
  tensor: string
  pooling: Pooling
}

export const KEY_PRESETS = ['penultimate', 'mean-last-hidden', 'mean-word-embeddings'] as const
export type KeyPreset = (typeof KEY_PRESETS)[number]

export type KeyPart = KeyPreset | TensorKey
export type KeySpec = KeyPart | readonly KeyPart[]

const FORMS = `${KEY_PRESETS.join(', ')}, ${POOLINGS.map((p) => `${p}(<tensor>)`).join(', ')}`

function checkPart(part: unknown): KeyPart {
  if (typeof part === 'string') {
    if ((KEY_PRESETS as readonly string[]).includes(part)) return part as KeyPreset
    throw new InvalidKeySpecError(`unknown key preset "${part}"; expected one of ${KEY_PRESETS.join(', ')} or { tensor, pooling }`)
  }
  if (part && typeof part === 'object' && !Array.isArray(part)) {
    const { tensor, pooling } = part as Partial<TensorKey>
    if (typeof tensor !== 'string' || tensor === '') throw new InvalidKeySpecError(`a tensor key needs a non-empty "tensor" name, got ${JSON.stringify(part)}`)
    if (!POOLINGS.includes(pooling as Pooling)) throw new InvalidKeySpecError(`unknown pooling ${JSON.stringify(pooling)} for "${tensor}"; expected one of ${POOLINGS.join(', ')}`)
    return { tensor, pooling: pooling as Pooling }
  }
  throw new InvalidKeySpecError(`expected a key preset (${KEY_PRESETS.join(', ')}) or { tensor, pooling }, got ${JSON.stringify(part)}`)
}

/** The spec as a list of checked parts; throws InvalidKeySpecError for anything else. */
export function keyParts(spec: KeySpec): KeyPart[] {
  if (!Array.isArray(spec)) return [checkPart(spec)]
  if (spec.length === 0) throw new InvalidKeySpecError('an empty list of key parts; give at least one')
  return spec.map(checkPart)
}

/** Splits at `+` and `,` outside parentheses: tensor names may hold either, never unbalanced parentheses. */
function splitTopLevel(text: string): string[] {
  const items: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '(') depth++
    else if (c === ')') depth = Math.max(0, depth - 1)
    else if ((c === '+' || c === ',') && depth === 0) {
      items.push(text.slice(start, i))
      start = i + 1
    }
  }
  items.push(text.slice(start))
  return items.map((s) => s.trim())
}

function parsePart(item: string, text: string): KeyPart {
  if (item === '') throw new InvalidKeySpecError(`empty key part in "${text}"; expected parts among ${FORMS}, joined by + or ,`)
  // The manifest's spelling of the default key names the tensor it resolved to.
  if (item.startsWith('penultimate:')) return 'penultimate'
  const call = /^([a-z0-9]+)\((.+)\)$/s.exec(item)
  if (call && POOLINGS.includes(call[1] as Pooling)) return { tensor: call[2].trim(), pooling: call[1] as Pooling }
  if ((KEY_PRESETS as readonly string[]).includes(item)) return item as KeyPreset
  throw new InvalidKeySpecError(`unknown key part "${item}"; expected one of ${FORMS}, joined by + or ,`)
}

/**
 * Parses the command-line form of a key, and the form addKeyOutput describes a key in (the manifest's
 * `resmem.key`: 'penultimate:<tensor>', 'mean(<tensor>)', 'concat(l2(<part>), l2(<part>))'), so a build's
 * key can be made again from its manifest.
 *
 * @example
 * parseKeySpec('penultimate+mean-last-hidden') // ['penultimate', 'mean-last-hidden']
 * parseKeySpec('mean(/encoder/layer.1/output/LayerNorm/Add_1_output_0)') // { tensor: '/encoder/...', pooling: 'mean' }
 */
export function parseKeySpec(text: string): KeySpec {
  const trimmed = text.trim()
  const concat = /^concat\((.*)\)$/s.exec(trimmed)
  const items = concat ? splitTopLevel(concat[1]).map((item) => /^l2\((.*)\)$/s.exec(item)?.[1].trim() ?? item) : splitTopLevel(trimmed)
  const parts = items.map((item) => parsePart(item, text))
  return parts.length === 1 && !concat ? parts[0] : parts
}
