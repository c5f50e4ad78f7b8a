/**
 * The tensors the named key presets stand for in a given export.
 *
 * mean-last-hidden: the last encoder layer's output, found as the [B, S, H] tensor where the classifier
 *   path pools the sequence axis. We walk back from the classifier's activation input, at each node
 *   following the one input that depends on the token inputs (constants and mask-only operands are not
 *   followed), until a node pools axis 1 of a rank-3 tensor: Gather on axis 1 ([CLS], `h[:, 0]`), Slice
 *   on axis 1 (`h[:, :1]`), or ReduceSum/ReduceMean/ReduceMax over axis 1 (mean or max pooling; a Mul by
 *   the mask just before it is stepped over). That node's data input is the last hidden state. This finds
 *   what the model itself pools whatever the layers are called; "the last rank-3 LayerNormalization"
 *   would miss exports that spell LayerNorm as ReduceMean/Sub/Pow (torch below opset 17). When the walk
 *   cannot decide (two token-dependent inputs, no pooling op) we fail and list the rank-3 tensors.
 *
 * mean-word-embeddings: the output of the Gather that looks up input_ids (directly or through
 *   Cast/Identity) in a rank-2 [vocab, H] initializer.
 */
import type { ClassifierLayer, GraphIndex } from './classifier.ts'
import { KeyPresetError, MissingInputError } from './errors.ts'
import type { GraphProto, NodeProto } from './proto.ts'
import { formatShape, nodeAxes, type ShapeTable } from './shapes.ts'

export interface PresetContext {
  graph: GraphProto
  index: GraphIndex
  shapes: ShapeTable
  opset: number
  /** Graph input holding the token ids. */
  inputIds: string
  /** Graph input holding the attention mask. */
  attentionMask: string
  classifier: () => ClassifierLayer
}

const MAX_CANDIDATES = 8
const SEQUENCE_POOLS = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax'])

/** Graph inputs that are fed at run time (IR < 4 lists initializers among the inputs too). */
export function feedInputs(ctx: Pick<PresetContext, 'graph' | 'index'>): string[] {
  return (ctx.graph.input ?? []).map((i) => i.name ?? '').filter((n) => n && !ctx.index.initializers.has(n))
}

/** Tensors computed, through any path, from any of `roots`. Node order is topological. */
function reachableFrom(graph: GraphProto, roots: Iterable<string>): Set<string> {
  const reached = new Set(roots)
  for (const node of graph.node ?? []) {
    if ((node.input ?? []).some((i) => reached.has(i))) for (const o of node.output ?? []) if (o) reached.add(o)
  }
  return reached
}

const describe = (node: NodeProto) => `${node.opType} "${node.name ?? ''}"`

/** Rank-3 tensors with a known width, nearest the outputs last: what a caller may name instead. */
function rank3Candidates(ctx: PresetContext): string[] {
  const found: string[] = []
  for (const node of ctx.graph.node ?? []) {
    const out = node.output?.[0]
    if (!out || node.opType === 'Constant') continue
    const dims = ctx.shapes.get(out).dims
    if (dims?.length === 3 && typeof dims[2] === 'number') found.push(`"${out}" ${formatShape(ctx.shapes.get(out))}`)
  }
  const shown = found.slice(-MAX_CANDIDATES)
  if (found.length > shown.length) shown.unshift(`(${found.length - shown.length} earlier)`)
  return shown
}

/** The data input of `node` if it pools the sequence axis (axis 1) of a rank-3 tensor. */
function pooledInput(node: NodeProto, ctx: PresetContext): string | undefined {
  const data = node.input?.[0]
  if (!data || ctx.shapes.get(data).dims?.length !== 3) return undefined
  const onAxis1 = (axes: (number | string | null)[] | undefined) => axes?.length === 1 && (axes[0] === 1 || axes[0] === -2)
  const op = node.opType ?? ''
  if (op === 'Gather') {
    const axis = node.attribute?.find((a) => a.name === 'axis')
    return onAxis1([axis ? Number(axis.i) : 0]) ? data : undefined
  }
  if (op === 'Slice') return node.input?.[3] && onAxis1(ctx.shapes.value(node.input[3])) ? data : undefined
  if (SEQUENCE_POOLS.has(op)) return onAxis1(nodeAxes(node, ctx.opset, (n) => ctx.shapes.value(n))) ? data : undefined
  return undefined
}

/** The last encoder layer's output ([B, S, H]) that the classifier path pools; see the file comment. */
export function findLastHidden(ctx: PresetContext): string {
  const fail = (reason: string): never => {
    throw new KeyPresetError('mean-last-hidden', reason, rank3Candidates(ctx), 'Name the tensor instead: { tensor, pooling: "mean" } (CLI: mean(<tensor>))')
  }
  const inputs = feedInputs(ctx)
  const tokenInputs = inputs.filter((i) => i !== ctx.attentionMask)
  if (tokenInputs.length === 0) fail(`the graph has no token input besides "${ctx.attentionMask}"`)
  const tokens = reachableFrom(ctx.graph, tokenInputs)
  const mask = reachableFrom(ctx.graph, inputs.filter((i) => i === ctx.attentionMask))
  const maskOnly = (t: string) => mask.has(t) && !tokens.has(t)

  const walked: string[] = []
  let tensor = ctx.classifier().source
  for (let steps = 0; steps <= (ctx.graph.node?.length ?? 0); steps++) {
    const node = ctx.index.producers.get(tensor)
    if (!node) return fail(`walking back from the classifier${walked.length ? ` through ${walked.join(' <- ')}` : ''} reached "${tensor}", a graph input, before any op pooled the sequence axis`)
    let hidden = pooledInput(node, ctx)
    if (hidden !== undefined) {
      // Masked mean/sum pooling multiplies by the mask first: the hidden state is the other factor.
      const mul = ctx.index.producers.get(hidden)
      if (SEQUENCE_POOLS.has(node.opType ?? '') && mul?.opType === 'Mul') {
        const [a, b] = mul.input ?? []
        if (maskOnly(b) && tokens.has(a)) hidden = a
        else if (maskOnly(a) && tokens.has(b)) hidden = b
      }
      return hidden
    }
    walked.push(node.opType ?? '')
    const data = (node.input ?? []).filter((i) => i && tokens.has(i) && !ctx.index.constants.has(i))
    if (data.length !== 1) {
      return fail(
        data.length === 0
          ? `${describe(node)} on the classifier path has no input that depends on the token inputs`
          : `${describe(node)} on the classifier path has several inputs that depend on the token inputs (${data.map((d) => `"${d}"`).join(', ')}), so there is no single pooled sequence`,
      )
    }
    tensor = data[0]
  }
  return fail('the graph has a cycle')
}

/** The word-embedding lookup: Gather(rank-2 initializer, input_ids). */
export function findWordEmbeddings(ctx: PresetContext): string {
  const inputs = feedInputs(ctx)
  if (!inputs.includes(ctx.inputIds)) throw new MissingInputError(ctx.inputIds, 'the key preset "mean-word-embeddings"', inputs)
  // input_ids, and what merely relabels it (int32 exports cast the ids first).
  const ids = new Set([ctx.inputIds])
  for (const node of ctx.graph.node ?? []) {
    if ((node.opType === 'Cast' || node.opType === 'Identity') && ids.has(node.input?.[0] ?? '')) for (const o of node.output ?? []) ids.add(o)
  }
  const isTable = (name: string) => {
    const source = ctx.index.producers.get(name)
    // Exporters sometimes route a shared table through an Identity (weight tying).
    const table = source?.opType === 'Identity' ? source.input?.[0] ?? name : name
    return ctx.index.initializers.get(table)?.dims?.length === 2
  }
  const lookups = (ctx.graph.node ?? []).filter(
    (n) => n.opType === 'Gather' && ids.has(n.input?.[1] ?? '') && isTable(n.input?.[0] ?? '') && Number(n.attribute?.find((a) => a.name === 'axis')?.i ?? 0) === 0,
  )
  if (lookups.length === 1) return lookups[0].output![0]
  const hint = 'Name the tensor instead: { tensor, pooling: "mean" } (CLI: mean(<tensor>))'
  if (lookups.length === 0) {
    throw new KeyPresetError('mean-word-embeddings', `no Gather looks up "${ctx.inputIds}" in a rank-2 [vocab, H] initializer`, rank3Candidates(ctx), hint)
  }
  throw new KeyPresetError('mean-word-embeddings', `${lookups.length} Gathers look up "${ctx.inputIds}" in a rank-2 initializer`, lookups.map((n) => `"${n.output![0]}" (${describe(n)})`), hint)
}
