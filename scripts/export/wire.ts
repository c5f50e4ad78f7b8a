/**
 * Protobuf wire-level splice for ModelProto.graph.
 *
 * We append to the graph instead of decoding and re-encoding the whole model: onnx-proto knows ONNX 1.10's
 * schema, and protobufjs drops fields it does not know (newer exporters write e.g. node metadata_props),
 * so a re-encode could silently lose them. Splicing keeps every original byte.
 *
 * Layout used: a message is a run of fields `tag (varint: number << 3 | wire type)` + payload, where wire
 * type 0 = varint, 1 = 8 bytes, 2 = varint length + bytes, 5 = 4 bytes. ModelProto.graph is field 7
 * (length-delimited). Concatenating two serialized GraphProtos merges them: repeated fields (node,
 * initializer, output, ...) are appended in order, so `graph ++ fragment` is the graph with the
 * fragment's nodes and outputs added at the end.
 */
import { InvalidModelError } from './errors.ts'

const MODEL_GRAPH_FIELD = 7
const WIRE_VARINT = 0
const WIRE_I64 = 1
const WIRE_LEN = 2
const WIRE_I32 = 5

function readVarint(buf: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new InvalidModelError('truncated varint in the ModelProto')
    const byte = buf[pos++]
    // Multiply, don't shift: lengths and tags past 2^31 would overflow 32-bit shifts.
    value += (byte & 0x7f) * scale
    if (byte < 0x80) return [value, pos]
    scale *= 128
  }
  throw new InvalidModelError('malformed varint in the ModelProto')
}

function writeVarint(value: number): number[] {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value % 128) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
  return out
}

interface FieldSpan {
  field: number
  start: number
  payloadStart: number
  end: number
}

function* fields(buf: Uint8Array): Generator<FieldSpan> {
  let pos = 0
  while (pos < buf.length) {
    const start = pos
    const [tag, afterTag] = readVarint(buf, pos)
    const field = Math.floor(tag / 8)
    const wire = tag % 8
    let payloadStart = afterTag
    let end: number
    if (wire === WIRE_VARINT) end = readVarint(buf, afterTag)[1]
    else if (wire === WIRE_I64) end = afterTag + 8
    else if (wire === WIRE_I32) end = afterTag + 4
    else if (wire === WIRE_LEN) {
      const [length, afterLength] = readVarint(buf, afterTag)
      payloadStart = afterLength
      end = afterLength + length
    } else throw new InvalidModelError(`unsupported protobuf wire type ${wire} (field ${field}) in the ModelProto`)
    if (end > buf.length) throw new InvalidModelError(`field ${field} runs past the end of the ModelProto`)
    yield { field, start, payloadStart, end }
    pos = end
  }
}

function graphField(model: Uint8Array): FieldSpan {
  const graphs = [...fields(model)].filter((f) => f.field === MODEL_GRAPH_FIELD)
  // Exporters write one graph field; several would be merged by C++ readers but not by protobufjs, so we
  // could not be sure which graph we analysed.
  if (graphs.length !== 1) throw new InvalidModelError(`expected one graph field in the ModelProto, found ${graphs.length}`)
  return graphs[0]
}

/** Returns a copy of `model` whose ModelProto.graph is `graph` (a serialized GraphProto); every other field keeps its bytes. */
export function replaceGraph(model: Uint8Array, graph: Uint8Array): Uint8Array {
  const old = graphField(model)
  const header = [MODEL_GRAPH_FIELD * 8 + WIRE_LEN, ...writeVarint(graph.length)]
  const out = new Uint8Array(old.start + header.length + graph.length + (model.length - old.end))
  out.set(model.subarray(0, old.start), 0)
  out.set(header, old.start)
  out.set(graph, old.start + header.length)
  out.set(model.subarray(old.end), old.start + header.length + graph.length)
  return out
}

/** Returns a copy of `model` whose ModelProto.graph has `fragment` (a serialized GraphProto) appended. */
export function appendToGraph(model: Uint8Array, fragment: Uint8Array): Uint8Array {
  const graph = graphField(model)
  const header = [MODEL_GRAPH_FIELD * 8 + WIRE_LEN, ...writeVarint(graph.end - graph.payloadStart + fragment.length)]

  const out = new Uint8Array(graph.start + header.length + (graph.end - graph.payloadStart) + fragment.length + (model.length - graph.end))
  let at = 0
  out.set(model.subarray(0, graph.start), at)
  at += graph.start
  out.set(header, at)
  at += header.length
  out.set(model.subarray(graph.payloadStart, graph.end), at)
  at += graph.end - graph.payloadStart
  out.set(fragment, at)
  at += fragment.length
  out.set(model.subarray(graph.end), at)
  return out
}
