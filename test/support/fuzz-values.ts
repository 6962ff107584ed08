/**
 * fast-check arbitraries read off a JSON schema from the OpenAPI document: values the
 * schema accepts, and targeted mutations it must refuse (wrong type, out of range, too long
 * or short, bad enum value, NUL character, nesting too deep). Free text is drawn from
 * hostile strings — SQL metacharacters, path traversal, astral, right-to-left and combining
 * characters — that are valid and must be taken as data.
 */
import fc from "fast-check";

export type Schema = {
  type?: string | string[];
  anyOf?: Schema[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
};

/** What a mutation did, so a refusal can be checked for naming it. */
export type MutationKind =
  | "wrong type"
  | "out of range"
  | "too long"
  | "too short"
  | "bad enum"
  | "NUL"
  | "too deep"
  | "malformed id"
  | "missing required"
  | "unknown property";

export interface Mutated {
  kind: MutationKind;
  value: unknown;
}

/** The schema without its null branch, and whether null is allowed. */
export function unwrap(schema: Schema): { base: Schema; types: string[]; nullable: boolean } {
  const branches = schema.anyOf ?? [schema];
  const base = branches.find((s) => [s.type].flat().some((t) => t !== undefined && t !== "null")) ?? branches[0] ?? {};
  const types = [...new Set(branches.flatMap((s) => [s.type].flat().filter((t): t is string => t !== undefined)))];
  return { base, types: types.filter((t) => t !== "null"), nullable: types.includes("null") };
}

const SQL = ["'", '"', ";", "--", "/*", "*/", "%", "_", "\\", "' OR '1'='1", '"; DROP TABLE runs; --', "%' OR '%'='", "1; SELECT pg_sleep(10) --", "$1", "?"];
const TRAVERSAL = ["../", "..\\", "../../etc/passwd", "%2e%2e%2f", "..%2F..%2F", "/./", "~/"];
const UNICODE = [
  "🚀", // astral (two UTF-16 units)
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", // astral letters
  "שלום", // right-to-left
  "مرحبا",
  "\u202eevil\u202c", // right-to-left override
  "e\u0301", // NFD: e + combining acute
  "\u00e9", // NFC: é
  "Z\u0351\u0354\u0329a\u0313l\u0339g\u0315o", // stacked combining marks
  "\u200b", // zero-width space
  "\ufeff", // byte order mark
  "👩‍👩‍👧", // zero-width-joiner sequence
  "标签",
];
export const HOSTILE_PIECES = [...SQL, ...TRAVERSAL, ...UNICODE];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 6 }).filter((s) => !s.includes("\0")) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 8 }).filter((s) => !s.includes("\0")) },
);

/** Text of `minLength` to `maxLength` code points, made of hostile pieces; never a NUL. */
export function hostileText(minLength = 0, maxLength = 64): fc.Arbitrary<string> {
  const cap = Math.min(maxLength, 64);
  return fc
    .array(piece, { minLength: minLength > 0 ? 1 : 0, maxLength: 4 })
    .map((parts) => [...parts.join("")].slice(0, cap).join(""))
    .map((text) => (text.length === 0 && minLength > 0 ? "x" : text))
    .filter((text) => [...text].length >= minLength);
}

/** A small JSON object with hostile keys and values, nested a little. */
export const jsonObject: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  hostileText(1, 16),
  fc.oneof(hostileText(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(hostileText(), { maxLength: 3 }), fc.dictionary(hostileText(1, 8), hostileText(), { maxKeys: 3 })),
  { maxKeys: 4 },
);

const BIG_INTEGERS = [Number.MAX_SAFE_INTEGER, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 63, 1e20];

function integerIn(minimum: number | undefined, maximum: number | undefined): fc.Arbitrary<number> {
  const min = minimum ?? -(2 ** 31);
  const max = maximum ?? Number.MAX_SAFE_INTEGER;
  const extremes = [min, max, ...BIG_INTEGERS.filter((n) => n >= min && n <= max)];
  return fc.oneof({ weight: 3, arbitrary: fc.integer({ min, max: Math.min(max, Math.max(min, 0) + 10_000) }) }, { weight: 1, arbitrary: fc.constantFrom(...extremes) });
}

/** A value `schema` accepts. */
export function validValue(schema: Schema): fc.Arbitrary<unknown> {
  const { base, types, nullable } = unwrap(schema);
  const value = validOfBase(base, types);
  return nullable ? fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) }) : value;
}

function validOfBase(base: Schema, types: string[]): fc.Arbitrary<unknown> {
  const choices = base.enum?.filter((v) => v !== null);
  if (choices !== undefined && choices.length > 0) return fc.constantFrom(...choices);
  switch (types[0]) {
    case "string":
      if (base.format === "date-time") return isoTimestamp;
      return hostileText(base.minLength ?? 0, base.maxLength ?? 64);
    case "integer":
      return integerIn(base.minimum, base.maximum);
    case "number":
      return fc.double({ min: base.minimum ?? -1e9, max: base.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "array":
      return fc.array(validValue(base.items ?? {}), { minLength: base.minItems ?? 0, maxLength: Math.max(base.minItems ?? 0, Math.min(base.maxItems ?? 3, 3)) });
    case "object":
      if (base.properties === undefined) return jsonObject;
      return objectOf(base, (_name, field) => validValue(field));
    default:
      return fc.oneof(hostileText(), fc.integer(), jsonObject);
  }
}

/** An object of the schema's required fields and some of its optional ones, each drawn by `field`. */
export function objectOf(schema: Schema, field: (name: string, schema: Schema) => fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, field(name, property)]));
  return fc.record(fields, { requiredKeys: (schema.required ?? []) as never[] }) as fc.Arbitrary<Record<string, unknown>>;
}

export const isoTimestamp = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString());

/**
 * JSON text that JSON.stringify cannot produce — arrays nested 100,000 deep (its recursion
 * overflows the stack), numbers past a double's range — stands in a value as a token that
 * `toJsonText` writes out.
 */
const RAW = /"@@raw:([^@"]*)@@"/g;
export const rawJson = (text: string): string => `@@raw:${text}@@`;
export const nestedArrays = (depth: number): string => rawJson(`${"[".repeat(depth)}${"]".repeat(depth)}`);

export function toJsonText(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  return JSON.stringify(value, replacer as never).replace(RAW, (_, text: string) => text);
}

/** The next number past `maximum` (past 2^53, adding one is lost in rounding). */
const above = (maximum: number): number => (maximum + 1 > maximum ? maximum + 1 : maximum * 2);

const SAMPLE_OF_TYPE: Record<string, unknown> = { string: "text", integer: 7, number: 2.5, boolean: true, null: null, array: [1], object: { a: 1 } };

/** Values of a JSON body field that its schema must refuse, each labelled with what is wrong. */
export function bodyMutations(schema: Schema): fc.Arbitrary<Mutated>[] {
  const { base, types, nullable } = unwrap(schema);
  if (types.length === 0) return [];
  const out: fc.Arbitrary<Mutated>[] = [];
  const allowed = new Set([...types, ...(nullable ? ["null"] : []), ...(types.includes("number") ? ["integer"] : [])]);
  const wrong = Object.entries(SAMPLE_OF_TYPE).filter(([type]) => !allowed.has(type)).map(([, value]) => value);
  if (wrong.length > 0) out.push(fc.constantFrom(...wrong).map((value) => ({ kind: "wrong type", value })));
  const choices = base.enum?.filter((v) => v !== null);
  if (choices !== undefined && choices.length > 0) {
    out.push(hostileText(1, 20).filter((s) => !choices.includes(s)).map((value) => ({ kind: "bad enum", value })));
  }
  if (types[0] === "integer" || types[0] === "number") {
    const outside: number[] = [];
    if (base.minimum !== undefined) outside.push(base.minimum - 1, base.minimum - 1e6);
    if (base.maximum !== undefined) outside.push(above(base.maximum), base.maximum * 10 + 1);
    if (types[0] === "integer") outside.push(0.5 + (base.minimum ?? 0));
    if (outside.length > 0) out.push(fc.constantFrom(...outside).map((value) => ({ kind: "out of range", value })));
    // JSON.parse reads these as Infinity and -Infinity.
    out.push(fc.constantFrom("1e400", "-1e400").map((text) => ({ kind: "out of range", value: rawJson(text) })));
  }
  if (types[0] === "string" && choices === undefined) {
    if (base.maxLength !== undefined) out.push(fc.constantFrom("x", "🚀", "é").map((c) => ({ kind: "too long", value: c.repeat(base.maxLength! + 1) })));
    if ((base.minLength ?? 0) > 0) out.push(fc.constant({ kind: "too short", value: "" }));
    out.push(hostileText(0, 8).map((text) => ({ kind: "NUL", value: `${text}\0${text}` })));
  }
  if (types[0] === "array") {
    if (base.maxItems !== undefined) {
      out.push(validValue(base.items ?? {}).map((item) => ({ kind: "too long", value: Array.from({ length: base.maxItems! + 1 }, () => item) })));
    }
    if ((base.minItems ?? 0) > 0) out.push(fc.constant({ kind: "too short", value: [] }));
  }
  if (types[0] === "object" && base.properties === undefined) {
    out.push(fc.constantFrom(65, 1000, 100_000).map((depth) => ({ kind: "too deep", value: { deep: nestedArrays(depth) } })));
    out.push(hostileText(1, 8).map((key) => ({ kind: "NUL", value: { [key]: `a\0b` } })));
    out.push(fc.constantFrom("1e400", "-1e999").map((text) => ({ kind: "out of range", value: { n: rawJson(text) } })));
  }
  return out;
}

/** Query-string values (text) that a parameter's schema must refuse. */
export function queryMutations(schema: Schema): fc.Arbitrary<{ kind: MutationKind; values: string[] }>[] {
  const { base, types } = unwrap(schema);
  const item = types[0] === "array" ? unwrap(base.items ?? {}) : { base, types };
  const out: fc.Arbitrary<{ kind: MutationKind; values: string[] }>[] = [];
  const single = (kind: MutationKind, arb: fc.Arbitrary<string>) => out.push(arb.map((value) => ({ kind, values: [value] })));
  const choices = item.base.enum?.filter((v) => v !== null);
  if (choices !== undefined && choices.length > 0) single("bad enum", hostileText(1, 20).filter((s) => !choices.includes(s)));
  if (item.types[0] === "integer") {
    single("wrong type", fc.constantFrom("abc", "1.5", "--1", "' OR 1=1"));
    single("out of range", fc.constantFrom("1e400", "-1e400", "Infinity"));
    const outside: string[] = [];
    if (item.base.minimum !== undefined) outside.push(String(item.base.minimum - 1));
    if (item.base.maximum !== undefined) outside.push(String(above(item.base.maximum)));
    if (outside.length > 0) single("out of range", fc.constantFrom(...outside));
  }
  if (item.types[0] === "boolean") single("wrong type", fc.constantFrom("maybe", "2", "yes please", "tru"));
  if (item.types[0] === "string" && choices === undefined) {
    if (item.base.maxLength !== undefined) single("too long", fc.constant("q".repeat(item.base.maxLength + 1)));
    single("NUL", hostileText(0, 8).map((text) => `${text}\0`));
  }
  if (types[0] === "array" && base.maxItems !== undefined && base.maxItems < 100) {
    const one = choices?.[0] !== undefined ? String(choices[0]) : "same";
    out.push(fc.constant({ kind: "too long", values: Array.from({ length: base.maxItems + 1 }, (_, i) => (choices ? one : `${one}${i}`)) }));
  }
  return out;
}
