/**
 * The ONNX messages an inference graph of float32 tensors needs, and their encoding with the
 * field numbers of onnx.proto (proto2): ModelProto, OperatorSetIdProto, StringStringEntryProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto (tensor),
 * TensorShapeProto. Fields this project never sets are left out.
 */
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType.FLOAT */
export const FLOAT = 1;

export interface Tensor {
  name: string;
  dims: readonly number[];
  /** Stored as raw_data: little-endian float32. */
  values: Float32Array;
  docString?: string;
}

/** An attribute of one of the kinds used here: INT, INTS, FLOAT or STRING. */
export type Attribute =
  | { name: string; int: number }
  | { name: string; ints: readonly number[] }
  | { name: string; float: number }
  | { name: string; string: string };

export interface Node {
  name: string;
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly Attribute[];
  docString?: string;
}

/** A float32 tensor value; a dimension is a size or a symbolic name (e.g. "N"). */
export interface ValueInfo {
  name: string;
  shape: readonly (number | string)[];
  docString?: string;
}

export interface Graph {
  name: string;
  nodes: readonly Node[];
  initializers: readonly Tensor[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  docString?: string;
}

export interface Model {
  irVersion: number;
  /** The default domain ("" = ai.onnx) at this opset version. */
  opset: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: Graph;
  metadata?: Record<string, string>;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7;

function tensor(t: Tensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d); //                 dims
  w.int(2, FLOAT); //                                     data_type
  w.string(8, t.name); //                                 name
  const raw = new Uint8Array(t.values.length * 4);
  const view = new DataView(raw.buffer);
  t.values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  w.bytes(9, raw); //                                     raw_data
  if (t.docString) w.string(12, t.docString); //         doc_string
  return w;
}

function attribute(a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name); //      name
  if ('int' in a) w.int(3, a.int).int(20, ATTR_INT); //  i, type
  else if ('ints' in a) {
    for (const i of a.ints) w.int(8, i); //              ints
    w.int(20, ATTR_INTS);
  } else if ('float' in a) w.float(2, a.float).int(20, ATTR_FLOAT); // f
  else w.string(4, a.string).int(20, ATTR_STRING); //    s
  return w;
}

function node(n: Node): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i); //            input
  for (const o of n.outputs) w.string(2, o); //           output
  w.string(3, n.name).string(4, n.opType); //             name, op_type
  for (const a of n.attributes ?? []) w.message(5, attribute(a)); // attribute
  if (n.docString) w.string(6, n.docString); //          doc_string
  return w;
}

function valueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    // TensorShapeProto.dim: Dimension { dim_value = 1 | dim_param = 2 }
    shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape); // TypeProto.Tensor: elem_type, shape
  const type = new ProtoWriter().message(1, tensorType); //               TypeProto.tensor_type
  const w = new ProtoWriter().string(1, v.name).message(2, type); //      name, type
  if (v.docString) w.string(3, v.docString); //                           doc_string
  return w;
}

function graph(g: Graph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, node(n)); //          node
  w.string(2, g.name); //                                     name
  for (const t of g.initializers) w.message(5, tensor(t)); // initializer
  if (g.docString) w.string(10, g.docString); //             doc_string
  for (const v of g.inputs) w.message(11, valueInfo(v)); //   input
  for (const v of g.outputs) w.message(12, valueInfo(v)); //  output
  return w;
}

/** The bytes of an .onnx file. */
export function encodeModel(m: Model): Uint8Array {
  const w = new ProtoWriter();
  // ir_version and producer_name first: the first bytes of the file say what wrote it
  w.int(1, m.irVersion); //                                        ir_version
  w.string(2, m.producerName).string(3, m.producerVersion); //     producer_name, producer_version
  if (m.docString) w.string(6, m.docString); //                    doc_string
  w.message(7, graph(m.graph)); //                                 graph
  w.message(8, new ProtoWriter().string(1, '').int(2, m.opset)); // opset_import: domain, version
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    w.message(14, new ProtoWriter().string(1, k).string(2, v)); // metadata_props
  }
  return w.finish();
}
