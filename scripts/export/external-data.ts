/**
 * Refuses models whose tensors live in side files: the edited bytes must be the whole model, and the
 * memory build hashes and ships exactly these bytes.
 */
import { ExternalDataError } from './errors.ts'
import { onnx, subgraphs, type GraphProto, type TensorProto } from './proto.ts'

function check(tensor: TensorProto | null | undefined): void {
  if (!tensor) return
  const external = tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (tensor.externalData?.length ?? 0) > 0
  if (!external) return
  const location = tensor.externalData?.find((e) => e.key === 'location')?.value ?? undefined
  throw new ExternalDataError(tensor.name ?? '(unnamed)', location)
}

/** Throws ExternalDataError for the first tensor, in graph order (subgraphs included), stored externally. */
export function assertNoExternalData(graph: GraphProto): void {
  for (const tensor of graph.initializer ?? []) check(tensor)
  for (const sparse of graph.sparseInitializer ?? []) {
    check(sparse.values)
    check(sparse.indices)
  }
  for (const node of graph.node ?? []) {
    for (const attr of node.attribute ?? []) {
      check(attr.t)
      for (const t of attr.tensors ?? []) check(t)
      check(attr.sparseTensor?.values)
      for (const s of attr.sparseTensors ?? []) check(s.values)
    }
    for (const g of subgraphs(node)) assertNoExternalData(g)
  }
}
