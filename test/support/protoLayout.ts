// Reads and writes protobuf bytes by a layout table (field number → name/type) instead of generated code, so a
// test can check bytes against upstream's layout independently of our .proto. Unknown field numbers and wire
// types that disagree with the table are errors.
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { FieldKind, FieldSpec, MessageLayout } from "../fixtures/upstream/layout";

export type Decoded = { [field: string]: unknown };

const WIRE: Record<FieldKind, WireType> = {
  string: WireType.LengthDelimited,
  message: WireType.LengthDelimited,
  "map<string,string>": WireType.LengthDelimited,
  double: WireType.Bit64,
  int32: WireType.Varint,
  int64: WireType.Varint,
  bool: WireType.Varint,
  enum: WireType.Varint,
};

export class LayoutError extends Error {
  override name = "LayoutError";
}

export function decodeByLayout(
  layouts: Readonly<Record<string, MessageLayout>>,
  type: string,
  bytes: Uint8Array,
  path = type,
): Decoded {
  const layout = layouts[type];
  if (!layout) throw new LayoutError(`${path}: no layout for message ${type}`);
  const r = new BinaryReader(bytes);
  const out: Decoded = {};
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    const f: FieldSpec | undefined = layout[no];
    if (!f) throw new LayoutError(`${path}: field number ${no} (wire type ${wt}) is not in ${type}'s layout`);
    if (WIRE[f.kind] !== wt)
      throw new LayoutError(`${path}.${f.name}: wire type ${wt}, layout says ${f.kind} (wire type ${WIRE[f.kind]})`);
    const at = `${path}.${f.name}`;
    let v: unknown;
    switch (f.kind) {
      case "string":
        v = r.string();
        break;
      case "double":
        v = r.double();
        break;
      case "int32":
        v = r.int32();
        break;
      case "int64":
        v = Number(r.int64());
        break;
      case "bool":
        v = r.bool();
        break;
      case "enum":
        v = r.int32();
        break;
      case "message":
        v = decodeByLayout(layouts, f.type!, r.bytes(), at);
        break;
      case "map<string,string>": {
        const e = decodeByLayout(
          { Entry: { 1: { name: "key", kind: "string" }, 2: { name: "value", kind: "string" } } },
          "Entry",
          r.bytes(),
          at,
        );
        const m = (out[f.name] as Record<string, string> | undefined) ?? {};
        m[String(e.key ?? "")] = String(e.value ?? "");
        out[f.name] = m;
        continue;
      }
    }
    if (f.repeated) out[f.name] = [...((out[f.name] as unknown[] | undefined) ?? []), v];
    else out[f.name] = v;
  }
  return out;
}

export function encodeByLayout(
  layouts: Readonly<Record<string, MessageLayout>>,
  type: string,
  value: Decoded,
): Uint8Array {
  const w = new BinaryWriter();
  writeFields(layouts, type, value, w);
  return w.finish();
}

function writeFields(
  layouts: Readonly<Record<string, MessageLayout>>,
  type: string,
  value: Decoded,
  w: BinaryWriter,
): void {
  const layout = layouts[type];
  if (!layout) throw new LayoutError(`no layout for message ${type}`);
  const byName = new Map(Object.entries(layout).map(([no, f]) => [f.name, { no: Number(no), f }]));
  for (const [name, v] of Object.entries(value)) {
    const hit = byName.get(name);
    if (!hit) throw new LayoutError(`${type}: no field named ${name}`);
    const { no, f } = hit;
    const values = f.repeated ? (v as unknown[]) : [v];
    for (const x of values) {
      if (f.kind === "map<string,string>") {
        for (const [k, s] of Object.entries(x as Record<string, string>)) {
          w.tag(no, WireType.LengthDelimited).fork();
          w.tag(1, WireType.LengthDelimited).string(k).tag(2, WireType.LengthDelimited).string(s).join();
        }
        continue;
      }
      w.tag(no, WIRE[f.kind]);
      if (f.kind === "string") w.string(x as string);
      else if (f.kind === "double") w.double(x as number);
      else if (f.kind === "int32" || f.kind === "enum") w.int32(x as number);
      else if (f.kind === "int64") w.int64(x as number);
      else if (f.kind === "bool") w.bool(x as boolean);
      else {
        w.fork();
        writeFields(layouts, f.type!, x as Decoded, w);
        w.join();
      }
    }
  }
}
