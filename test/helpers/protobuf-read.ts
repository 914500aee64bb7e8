/**
 * A minimal protocol-buffers reader for the tests: splits a message into its fields, so that the
 * ONNX files cnn-train writes can be read back (node names, initializers, doc string) without
 * trusting the writer's own code.
 */
export interface Field {
  field: number;
  wire: number;
  /** varint value (wire 0) */
  int?: number;
  /** length-delimited payload (wire 2) */
  bytes?: Uint8Array;
}

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0, mul = 1;
  for (;;) {
    const x = b[at++];
    v += (x & 0x7f) * mul;
    mul *= 128;
    if (x < 0x80) return [v, at];
  }
}

export function readFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < b.length) {
    let key: number;
    [key, at] = varint(b, at);
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) {
      let v: number;
      [v, at] = varint(b, at);
      out.push({ field, wire, int: v });
    } else if (wire === 2) {
      let n: number;
      [n, at] = varint(b, at);
      out.push({ field, wire, bytes: b.subarray(at, at + n) });
      at += n;
    } else if (wire === 5) {
      out.push({ field, wire, bytes: b.subarray(at, at + 4) });
      at += 4;
    } else if (wire === 1) {
      out.push({ field, wire, bytes: b.subarray(at, at + 8) });
      at += 8;
    } else {
      throw new Error(`wire type ${wire} at byte ${at}`);
    }
  }
  return out;
}

const text = new TextDecoder();
export const fieldsOf = (b: Uint8Array, field: number) => readFields(b).filter((f) => f.field === field);
export const stringOf = (b: Uint8Array, field: number) => fieldsOf(b, field).map((f) => text.decode(f.bytes));
export const intsOf = (b: Uint8Array, field: number) => fieldsOf(b, field).map((f) => f.int!);
