/**
 * The names a graph already uses, so that what we add neither shadows a tensor nor repeats a node name.
 * Subgraphs count: ONNX names are visible from nested If/Loop bodies.
 */
import { subgraphs, type GraphProto } from './proto.ts'

export interface GraphNames {
  /** Tensor name -> where it was first seen ("graph input", "initializer", "output of node X", ...). */
  tensors: Map<string, string>
  nodes: Set<string>
}

export function collectNames(graph: GraphProto, names: GraphNames = { tensors: new Map(), nodes: new Set() }): GraphNames {
  const see = (name: string | null | undefined, where: string) => {
    if (name && !names.tensors.has(name)) names.tensors.set(name, where)
  }
  for (const v of graph.input ?? []) see(v.name, 'graph input')
  for (const t of graph.initializer ?? []) see(t.name, 'initializer')
  for (const s of graph.sparseInitializer ?? []) see(s.values?.name, 'sparse initializer')
  for (const node of graph.node ?? []) {
    const label = `${node.opType} node "${node.name ?? ''}"`
    if (node.name) names.nodes.add(node.name)
    for (const o of node.output ?? []) see(o, `output of ${label}`)
    for (const i of node.input ?? []) see(i, `input of ${label}`)
    for (const g of subgraphs(node)) collectNames(g, names)
  }
  for (const v of graph.valueInfo ?? []) see(v.name, 'value_info')
  for (const v of graph.output ?? []) see(v.name, 'graph output')
  return names
}

/** `base`, or `base_1`, `base_2`, ... : the first that is not in `taken` (deterministic). */
export function uniqueName(base: string, taken: { has(name: string): boolean }): string {
  if (!taken.has(base)) return base
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`
}
