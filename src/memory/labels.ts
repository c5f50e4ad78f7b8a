/**
 * Served labels: the model's labels, then labels that live in the memory (added at run time, taught by learned
 * rows, the base model has no logit for them). Class ids: the model's 0..C-1, then one id per memory label in
 * the order added (C + slot). A removed label's slot is never reused, so a row's id never changes meaning; a
 * label added again gets a new slot and starts empty. Served fields (scores, set) list the live labels only:
 * model labels first in the model's order, then memory labels in the order added.
 */

import { CodedError } from '../errors.ts'

/** What a label is made of: 1 to 64 letters, digits and `_ - . : /`. */
export const LABEL_NAME = /^[\p{L}\p{N}_\-.:/]{1,64}$/u
export const MAX_LABEL_LENGTH = 64
/** Default most memory labels a memory holds (MEMORY_MAX_LABELS). */
export const DEFAULT_MAX_MEMORY_LABELS = 32

export interface ServedLabel {
  label: string
  source: 'model' | 'memory'
}

export type LabelErrorCode = 'invalid_label' | 'label_exists' | 'labels_full' | 'model_label' | 'not_found'

/** An add or remove the label set refuses; nothing changed. */
export class LabelError extends CodedError<LabelErrorCode> {
  override readonly name = 'LabelError'
}

/** Why `name` cannot be a label, or undefined when it can. */
export function labelNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string'
  if (name.length === 0 || name.length > MAX_LABEL_LENGTH) return `must be 1 to ${MAX_LABEL_LENGTH} characters, got ${name.length}`
  if (!LABEL_NAME.test(name)) return 'may hold only letters, digits and _ - . : / (no spaces)'
  return undefined
}

export class LabelSet {
  /** Memory label of each slot (undefined once removed). */
  private slots: (string | undefined)[] = []

  constructor(readonly model: readonly string[]) {}

  /** Classes a served probability vector spans: the model's plus every slot ever added (removed ones stay 0). */
  get width(): number {
    return this.model.length + this.slots.length
  }

  /** Live memory labels, in the order added. */
  memoryLabels(): string[] {
    return this.slots.filter((s): s is string => s !== undefined)
  }

  /** Model labels, then live memory labels. */
  list(): ServedLabel[] {
    return [...this.model.map((label) => ({ label, source: 'model' as const })), ...this.memoryLabels().map((label) => ({ label, source: 'memory' as const }))]
  }

  /** Class id of a served label (model or live memory label). */
  idOf(name: string): number | undefined {
    const m = this.model.indexOf(name)
    if (m >= 0) return m
    const s = this.slots.lastIndexOf(name)
    return s >= 0 ? this.model.length + s : undefined
  }

  /** The label of a class id; undefined for a removed slot. */
  nameOf(id: number): string | undefined {
    return id < this.model.length ? this.model[id] : this.slots[id - this.model.length]
  }

  isMemoryLabel(name: string): boolean {
    return this.model.indexOf(name) < 0 && this.slots.includes(name)
  }

  /** Checks an add without making it (the limit counts live memory labels). */
  checkAdd(name: string, max = DEFAULT_MAX_MEMORY_LABELS): void {
    const problem = labelNameProblem(name)
    if (problem) throw new LabelError('invalid_label', `label: ${problem}`)
    if (this.idOf(name) !== undefined) throw new LabelError('label_exists', `${JSON.stringify(name)} is already a ${this.model.includes(name) ? 'model' : 'memory'} label`)
    const live = this.memoryLabels().length
    if (live >= max) throw new LabelError('labels_full', `the memory holds ${live} labels of its own and MEMORY_MAX_LABELS is ${max}: remove one first (or raise MEMORY_MAX_LABELS)`)
  }

  /** Adds a memory label; returns its class id. */
  add(name: string, max = Infinity): number {
    this.checkAdd(name, max)
    this.slots.push(name)
    return this.width - 1
  }

  /**
   * Adds a memory label unless `name` is served already. Replaying a log needs this: after a model change, a name
   * the log added may be the new model's own label, which stays the model's.
   */
  ensure(name: string): void {
    if (this.idOf(name) === undefined) this.add(name)
  }

  /** Checks a remove without making it; returns the label's class id. */
  checkRemove(name: string): number {
    if (this.model.includes(name)) throw new LabelError('model_label', `${JSON.stringify(name)} is a label of the model: only labels added to the memory can be removed`)
    const id = this.idOf(name)
    if (id === undefined) throw new LabelError('not_found', `${JSON.stringify(name)} is not a label of this memory (labels: ${this.list().map((l) => l.label).join(', ')})`)
    return id
  }

  /** Removes a memory label (its slot stays, empty); returns its class id. Its rows are the caller's to forget. */
  remove(name: string): number {
    const id = this.checkRemove(name)
    this.slots[id - this.model.length] = undefined
    return id
  }

  /** The memory labels as built: slots in order, removed ones as null (manifest `memoryLabels`). */
  slotsAsStored(): (string | null)[] {
    return this.slots.map((s) => s ?? null)
  }

  /** Restores slots as slotsAsStored() wrote them. */
  restore(slots: readonly (string | null)[]): void {
    this.slots = slots.map((s) => s ?? undefined)
  }

  clear(): void {
    this.slots = []
  }
}

/** Pads softmax(z/T) of the model's classes with zeros to `width` (memory labels have no logit). */
export function padProbabilities(probs: Float32Array, width: number): Float32Array {
  if (width <= probs.length) return probs
  const out = new Float32Array(width)
  out.set(probs)
  return out
}
