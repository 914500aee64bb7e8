/**
 * The protocol-buffers wire format, writing side only, as much of it as the ONNX messages need:
 * a message is a sequence of fields, each a key (field number << 3 | wire type) followed by
 *   wire type 0 (varint):           integers and enums, 7 bits a byte, low bits first;
 *   wire type 2 (length-delimited): strings (UTF-8), bytes and nested messages, a varint length first;
 *   wire type 5 (32-bit):           float, little-endian.
 * Repeated scalars are written one field per value (proto2's unpacked form, which onnx.proto
 * declares and every parser reads).
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private bytesPending: number[] = [];
  private size = 0;

  private flush(): void {
    if (this.bytesPending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.bytesPending));
    this.bytesPending = [];
  }

  private byte(b: number): void {
    this.bytesPending.push(b);
    this.size++;
  }

  private raw(bytes: Uint8Array): void {
    this.flush();
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /** An unsigned varint of a whole number up to 2^53, or a negative int64 as its 10-byte two's complement. */
  private varintValue(v: number): void {
    if (!Number.isSafeInteger(v)) throw new Error(`protobuf: ${v} is not a safe integer`);
    if (v < 0) {
      let u = BigInt.asUintN(64, BigInt(v));
      while (u >= 0x80n) {
        this.byte(Number(u & 0x7fn) | 0x80);
        u >>= 7n;
      }
      this.byte(Number(u));
      return;
    }
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  private key(field: number, wire: number): void {
    this.varintValue(field * 8 + wire);
  }

  /** int32, int64 or an enum. */
  int(field: number, v: number): this {
    this.key(field, WIRE_VARINT);
    this.varintValue(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.byte(x);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.varintValue(b.length);
    this.raw(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
