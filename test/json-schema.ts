/**
 * JSON Schema helpers for test/schemas.ts: close an upstream schema (every object node that
 * lists `properties` also gets `additionalProperties: false`, so a typo is an error), and
 * turn Ajv's errors into readable lines (`spec.data[0].remoteRef.key: …`).
 */
import type { ErrorObject } from "ajv";
import { type JsonObject, isObject } from "./json";

/** Keywords whose value is a map of name -> subschema. */
const SCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
/** Keywords whose value is one subschema that applies to a child instance. */
const CHILD_SCHEMA_KEYWORDS = ["additionalProperties", "unevaluatedProperties", "items", "additionalItems", "unevaluatedItems", "contains", "propertyNames"];
/** Keywords that apply subschemas to the same instance (they may contribute properties). */
const IN_PLACE_ARRAY_KEYWORDS = ["allOf", "anyOf", "oneOf"];
const IN_PLACE_SINGLE_KEYWORDS = ["not", "if", "then", "else"];

/** True if an in-place applicator of `node` (allOf/anyOf/…/$ref) could declare properties. */
function hasInPlaceApplicator(node: JsonObject): boolean {
  if (typeof node.$ref === "string" || node.dependentSchemas !== undefined) return true;
  if (isObject(node.dependencies)) return true;
  return [...IN_PLACE_ARRAY_KEYWORDS, ...IN_PLACE_SINGLE_KEYWORDS].some((k) => node[k] !== undefined);
}

/**
 * Sets `additionalProperties: false`, in place, on every object node of a (cloned) schema that
 * lists `properties`, walking only schema positions (never `default`/`example` values).
 * Left open: nodes that already say `additionalProperties`/`unevaluatedProperties`, nodes with
 * `x-kubernetes-preserve-unknown-fields: true`, and the branches of allOf/anyOf/oneOf/not/if
 * (they constrain the parent's instance; closing one would reject its siblings' fields).
 * `patternProperties` and `type: [object, …]` mixtures close correctly, because
 * `additionalProperties` honours `patternProperties` and only applies to object instances.
 * Throws on a node with `properties` plus an in-place applicator, which cannot be closed with
 * `additionalProperties` alone: decide by hand if upstream ever ships one.
 */
export function closeSchema(node: unknown, where: string, inPlaceBranch = false): void {
  if (!isObject(node)) return;
  if (isObject(node.properties) && !inPlaceBranch) {
    const open = node.additionalProperties !== undefined || node.unevaluatedProperties !== undefined || node["x-kubernetes-preserve-unknown-fields"] === true;
    if (!open) {
      if (hasInPlaceApplicator(node)) {
        throw new Error(`cannot close schema node ${where || "#"}: it has properties and allOf/anyOf/oneOf/$ref`);
      }
      node.additionalProperties = false;
    }
  }
  for (const k of SCHEMA_MAP_KEYWORDS) {
    const map = node[k];
    if (isObject(map)) for (const [name, sub] of Object.entries(map)) closeSchema(sub, `${where}/${k}/${name}`);
  }
  if (isObject(node.dependencies)) {
    for (const [name, sub] of Object.entries(node.dependencies)) closeSchema(sub, `${where}/dependencies/${name}`, true);
  }
  for (const k of CHILD_SCHEMA_KEYWORDS) {
    const sub = node[k];
    if (Array.isArray(sub)) sub.forEach((s, i) => closeSchema(s, `${where}/${k}/${i}`));
    else closeSchema(sub, `${where}/${k}`);
  }
  if (Array.isArray(node.prefixItems)) node.prefixItems.forEach((s, i) => closeSchema(s, `${where}/prefixItems/${i}`));
  for (const k of IN_PLACE_ARRAY_KEYWORDS) {
    const subs = node[k];
    if (Array.isArray(subs)) subs.forEach((s, i) => closeSchema(s, `${where}/${k}/${i}`, true));
  }
  for (const k of IN_PLACE_SINGLE_KEYWORDS) closeSchema(node[k], `${where}/${k}`, true);
}

// ---------------------------------------------------------------------------------------------
// Error formatting

/** JSON pointer -> readable path (`spec.data[0].remoteRef.key`), using the data to spot arrays. */
function readablePath(pointer: string, data: unknown, extra?: string): string {
  const segments =
    pointer === ""
      ? []
      : pointer
          .slice(1)
          .split("/")
          .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) segments.push(extra);
  let out = "";
  let current: unknown = data;
  for (const seg of segments) {
    if (Array.isArray(current) && /^\d+$/.test(seg)) {
      out += `[${seg}]`;
      current = current[Number(seg)];
    } else {
      out += /^[A-Za-z0-9_$-]+$/.test(seg) ? (out === "" ? seg : `.${seg}`) : `[${JSON.stringify(seg)}]`;
      current = isObject(current) ? current[seg] : undefined;
    }
  }
  return out === "" ? "(root)" : out;
}

function showValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function typeMessage(type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : [String(type)];
  return `must be ${types.join(" or ")}`;
}

/** Friendlier wording for the pattern rules of our own metadata schema, keyed by schemaPath. */
const PATTERN_HINTS: Record<string, string> = {
  "#/properties/metadata/properties/name/pattern": "must be a DNS-1123 subdomain (lowercase alphanumerics, '-' or '.', starting and ending alphanumeric)",
  "#/properties/metadata/properties/namespace/pattern": "must be a DNS-1123 label (lowercase alphanumerics or '-', starting and ending alphanumeric)",
  "#/properties/metadata/properties/labels/propertyNames/pattern": "must be a qualified name ([dns-subdomain/]name, name ≤ 63)",
  "#/properties/metadata/properties/annotations/propertyNames/pattern": "must be a qualified name ([dns-subdomain/]name, name ≤ 63)",
  "#/properties/metadata/properties/labels/additionalProperties/pattern":
    "must be a valid label value (alphanumerics, '-', '_' or '.', starting and ending alphanumeric)",
};

function messageFor(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "enum":
      return `must be equal to one of the allowed values (${(params.allowedValues as unknown[]).map(showValue).join(", ")})`;
    case "type":
      return typeMessage(params.type);
    case "const":
      return `must be equal to constant ${JSON.stringify(params.allowedValue)}`;
    case "pattern":
      return PATTERN_HINTS[e.schemaPath] ?? e.message ?? "must match pattern";
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * Turns ajv errors into sorted, de-duplicated `path: message` strings. Unknown fields read
 * `path.field: unknown field`, missing required ones `path.field: required field missing`;
 * the branch errors of anyOf/oneOf and propertyNames are folded into one line.
 */
export function formatErrors(errors: readonly ErrorObject[] | null | undefined, data: unknown): string[] {
  const all = errors ?? [];
  const folded = all.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf" || e.keyword === "propertyNames");
  const isBranchOf = (e: ErrorObject, parent: ErrorObject): boolean =>
    e !== parent && e.instancePath.startsWith(parent.instancePath) && e.schemaPath.startsWith(`${parent.schemaPath}/`);
  const out = new Set<string>();
  for (const e of all) {
    if (folded.some((p) => isBranchOf(e, p))) continue;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === "additionalProperties" || e.keyword === "unevaluatedProperties") {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      out.add(`${readablePath(e.instancePath, data, name)}: unknown field`);
    } else if (e.keyword === "required") {
      out.add(`${readablePath(e.instancePath, data, String(params.missingProperty))}: required field missing`);
    } else if (e.keyword === "propertyNames") {
      const reasons = all.filter((b) => isBranchOf(b, e) && b.propertyName === params.propertyName).map(messageFor);
      const why = reasons.length > 0 ? ` (${[...new Set(reasons)].join("; ")})` : "";
      out.add(`${readablePath(e.instancePath, data)}: invalid key ${JSON.stringify(params.propertyName)}${why}`);
    } else if (e.keyword === "anyOf" || e.keyword === "oneOf") {
      const branches = all.filter((b) => isBranchOf(b, e) && b.instancePath === e.instancePath);
      const message =
        branches.length > 0 && branches.every((b) => b.keyword === "type")
          ? typeMessage(branches.flatMap((b) => [(b.params as Record<string, unknown>).type].flat()))
          : (e.message ?? e.keyword);
      out.add(`${readablePath(e.instancePath, data)}: ${message}`);
    } else {
      out.add(`${readablePath(e.instancePath, data)}: ${messageFor(e)}`);
    }
  }
  return [...out].sort();
}
