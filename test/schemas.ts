/**
 * Test helpers that validate what the Pulumi program builds against the vendored upstream
 * schemas in `test/upstream/` (ESO 2.9.0 CRDs and chart values schema, vault-helm 0.34.1
 * values schema). See `test/upstream/README.md`.
 *
 * Upstream schemas accept unknown fields (the API server prunes them, Helm ignores them), so
 * every schema is compiled CLOSED here: each object node that lists `properties` also gets
 * `additionalProperties: false`, which turns typos into errors.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { load, loadAll } from "js-yaml";
import { webhookErrors } from "./eso-webhook";
import { closeSchema, formatErrors } from "./json-schema";
import { type JsonObject, isObject } from "./json";

/** A chart whose values schema is vendored under `test/upstream/`. */
export type HelmChart = "external-secrets" | "vault";

const UPSTREAM_DIR = path.join(__dirname, "upstream");
const CRD_DIR = path.join(UPSTREAM_DIR, "external-secrets", "crds");
const CHART_DIRS: Record<HelmChart, string> = {
  "external-secrets": path.join(UPSTREAM_DIR, "external-secrets"),
  vault: path.join(UPSTREAM_DIR, "vault-helm"),
};

/**
 * Keys that the chart's own `values.yaml` sets but its `values.schema.json` does not list.
 * The closed schema tolerates exactly these paths (any value). Loading a chart fails if one of
 * them has since been added to the schema, or if values.yaml gains another unlisted key.
 */
const UNLISTED_UPSTREAM_VALUES: Record<HelmChart, readonly string[]> = {
  "external-secrets": [],
  // server.readinessProbe.path: documented (commented out) in values.yaml and read by the
  // chart's server StatefulSet template, but missing from values.schema.json.
  vault: ["server.preStop", "serverTelemetry.serviceMonitor.matchLabels", "server.readinessProbe.path"],
};

function readYaml(file: string): unknown {
  return load(fs.readFileSync(file, "utf8"));
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

// ---------------------------------------------------------------------------------------------
// Closing schemas

// ---------------------------------------------------------------------------------------------
// Custom resources (ESO CRDs)

interface CrdVersion {
  name: string;
  served: boolean;
  schema: JsonObject;
}

interface Crd {
  group: string;
  kind: string;
  scope: string;
  versions: CrdVersion[];
}

const DNS1123_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS1123_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
// Kubernetes qualified name: optional DNS-1123 subdomain prefix (≤ 253) and '/', then a name ≤ 63.
const QUALIFIED_NAME = "^((?=[^/]{1,253}/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";
const LABEL_VALUE = "^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$";

/** Our closed schema for `metadata` (CRDs declare it as a bare `type: object`). */
const METADATA_SCHEMA: JsonObject = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN },
    namespace: { type: "string", minLength: 1, maxLength: 63, pattern: DNS1123_LABEL },
    labels: {
      type: "object",
      propertyNames: { pattern: QUALIFIED_NAME },
      additionalProperties: { type: "string", maxLength: 63, pattern: LABEL_VALUE },
    },
    annotations: {
      type: "object",
      propertyNames: { pattern: QUALIFIED_NAME },
      additionalProperties: { type: "string" },
    },
  },
  additionalProperties: false,
};

let crdAjv: Ajv | undefined;
const crdCache = new Map<string, Crd>();
const crdFilesRead = new Set<string>();
const crdValidators = new Map<string, ValidateFunction>();

function newAjv<T extends Ajv>(make: (opts: { strict: false; allErrors: true }) => T): T {
  const ajv = make({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const format of ["int32", "int64", "byte"]) ajv.addFormat(format, true);
  return ajv;
}

function parseCrd(doc: unknown, file: string): Crd {
  const spec = isObject(doc) && isObject(doc.spec) ? doc.spec : undefined;
  const names = spec && isObject(spec.names) ? spec.names : undefined;
  if (!spec || !names || typeof spec.group !== "string" || typeof names.kind !== "string" || !Array.isArray(spec.versions)) {
    throw new Error(`${file}: not a CustomResourceDefinition`);
  }
  const versions = spec.versions.map((v): CrdVersion => {
    const schema = isObject(v) && isObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
    if (!isObject(v) || typeof v.name !== "string" || !isObject(schema)) throw new Error(`${file}: malformed version`);
    return { name: v.name, served: v.served === true, schema };
  });
  return { group: spec.group, kind: names.kind, scope: String(spec.scope), versions };
}

/** Finds a CRD by group+kind, parsing the vendored files lazily (the store CRDs are ~690 KB). */
function findCrd(group: string, kind: string): Crd {
  const key = `${group}/${kind}`;
  const files = fs
    .readdirSync(CRD_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  for (const file of files) {
    const cached = crdCache.get(key);
    if (cached) return cached;
    if (crdFilesRead.has(file)) continue;
    crdFilesRead.add(file);
    for (const doc of loadAll(fs.readFileSync(path.join(CRD_DIR, file), "utf8"))) {
      const crd = parseCrd(doc, file);
      crdCache.set(`${crd.group}/${crd.kind}`, crd);
    }
  }
  const found = crdCache.get(key);
  if (found) return found;
  const known = [...crdCache.values()]
    .map((c) => `${c.group}/${c.kind}`)
    .sort()
    .join(", ");
  throw new Error(`unknown kind ${kind} in group ${group}: no vendored CRD (known: ${known})`);
}

function crdValidator(crd: Crd, version: CrdVersion): ValidateFunction {
  const key = `${crd.group}/${version.name}/${crd.kind}`;
  let validate = crdValidators.get(key);
  if (!validate) {
    const schema = structuredClone(version.schema);
    const properties = isObject(schema.properties) ? schema.properties : {};
    schema.properties = { ...properties, metadata: structuredClone(METADATA_SCHEMA) };
    closeSchema(schema, "");
    crdAjv ??= newAjv((opts) => new Ajv(opts));
    validate = crdAjv.compile(schema);
    crdValidators.set(key, validate);
  }
  return validate;
}

/**
 * Validates a Kubernetes object `{apiVersion, kind, metadata, spec}` (as passed to
 * `k8s.apiextensions.CustomResource`) against the vendored ESO CRD for its group and kind, with
 * the schema closed against unknown fields and `metadata` checked by a small closed schema
 * (name, namespace, labels, annotations). The version must exist and be `served`.
 * Returns readable errors such as `spec.target.creationPolcy: unknown field`; `[]` = valid.
 * Throws if `obj` has no string apiVersion/kind or if no vendored CRD defines the kind.
 */
export function validateCustomResource(obj: unknown): string[] {
  if (!isObject(obj) || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    throw new TypeError("validateCustomResource: expected an object with string apiVersion and kind");
  }
  const slash = obj.apiVersion.indexOf("/");
  const group = slash < 0 ? "" : obj.apiVersion.slice(0, slash);
  const versionName = obj.apiVersion.slice(slash + 1);
  const crd = findCrd(group, obj.kind);
  const pinned = `the pinned ESO ${chartVersion("external-secrets")} CRDs`;
  const served = crd.versions
    .filter((v) => v.served)
    .map((v) => v.name)
    .join(", ");
  const version = crd.versions.find((v) => v.name === versionName);
  if (!version) {
    return [`apiVersion: ${obj.apiVersion} ${crd.kind} does not exist in ${pinned} (served versions: ${served})`];
  }
  if (!version.served) {
    return [`apiVersion: ${obj.apiVersion} ${crd.kind} is not served by ${pinned} (served versions: ${served})`];
  }
  const validate = crdValidator(crd, version);
  validate(obj);
  const errors = formatErrors(validate.errors, obj);
  if (crd.scope === "Cluster" && isObject(obj.metadata) && obj.metadata.namespace !== undefined) {
    errors.push(`metadata.namespace: must not be set: ${crd.kind} is cluster-scoped`);
  }
  // What passed the CRD schema then meets ESO's admission webhook.
  if (errors.length === 0) errors.push(...webhookErrors(obj));
  return errors.sort();
}

// ---------------------------------------------------------------------------------------------
// Helm values

interface ChartValidator {
  validate: ValidateFunction;
  defaults: JsonObject;
}

const chartValidators = new Map<HelmChart, ChartValidator>();

/** Clones JSON-like data, dropping `undefined` object entries (as serialisation to Helm does). */
function cloneValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneValues);
  if (!isObject(value) || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = cloneValues(v);
  return out;
}

/**
 * Merges user values over chart defaults the way Helm coalesces them: maps merge recursively,
 * arrays and scalars are replaced, the user's value wins on a type mismatch, and a user `null`
 * deletes a key that the defaults set.
 */
function helmMerge(defaults: unknown, user: unknown): unknown {
  if (!isObject(defaults) || !isObject(user)) return cloneValues(user);
  const out = cloneValues(defaults) as JsonObject;
  for (const [k, v] of Object.entries(user)) {
    if (v === undefined) continue;
    if (v === null && k in defaults) delete out[k];
    else out[k] = k in defaults ? helmMerge(defaults[k], v) : cloneValues(v);
  }
  return out;
}

/** Opens the listed dotted paths in a closed schema (only through `properties`). */
function tolerateUnlisted(schema: JsonObject, chart: HelmChart): void {
  for (const dotted of UNLISTED_UPSTREAM_VALUES[chart]) {
    const keys = dotted.split(".");
    const leaf = keys.pop() as string;
    let node: unknown = schema;
    for (const k of keys) node = isObject(node) && isObject(node.properties) ? node.properties[k] : undefined;
    if (!isObject(node) || !isObject(node.properties)) {
      throw new Error(`${chart} values.schema.json: cannot tolerate ${dotted}: parent has no properties`);
    }
    if (node.properties[leaf] !== undefined) {
      throw new Error(`${chart} values.schema.json now lists ${dotted}: remove it from UNLISTED_UPSTREAM_VALUES`);
    }
    node.properties[leaf] = {};
  }
}

function chartValidator(chart: HelmChart): ChartValidator {
  let cv = chartValidators.get(chart);
  if (cv) return cv;
  const dir = CHART_DIRS[chart];
  const schema = readJson(path.join(dir, "values.schema.json"));
  const defaults = readYaml(path.join(dir, "values.yaml")) ?? {};
  if (!isObject(schema) || !isObject(defaults)) throw new Error(`${chart}: values schema/values.yaml must be objects`);
  const closed = structuredClone(schema);
  // ESO declares draft 2020-12 (needs ajv/dist/2020). vault-helm declares the https form of the
  // draft-07 URI, which ajv does not know: drop it and compile with the draft-07 Ajv.
  const draft2020 = closed.$schema === "https://json-schema.org/draft/2020-12/schema";
  delete closed.$schema;
  closeSchema(closed, "");
  tolerateUnlisted(closed, chart);
  const ajv = draft2020 ? newAjv((opts) => new Ajv2020(opts)) : newAjv((opts) => new Ajv(opts));
  const validate = ajv.compile(closed);
  if (!validate(defaults)) {
    const problems = formatErrors(validate.errors, defaults).join("; ");
    throw new Error(`${chart}: upstream values.yaml does not validate under the closed schema: ${problems}`);
  }
  cv = { validate, defaults };
  chartValidators.set(chart, cv);
  return cv;
}

/**
 * Validates `values` (as passed to `k8s.helm.v3.Release`) deep-merged over the chart's own
 * `values.yaml`, against the chart's `values.schema.json` closed against unknown fields
 * (free-form maps such as `podAnnotations` or `resources` declare no properties and stay open).
 * Returns readable errors such as `installCRDs: must be boolean`; `[]` = valid.
 * Throws if the chart's own values.yaml does not validate under the closed schema.
 */
export function validateHelmValues(chart: HelmChart, values: unknown): string[] {
  const { validate, defaults } = chartValidator(chart);
  const merged = helmMerge(defaults, values);
  validate(merged);
  return formatErrors(validate.errors, merged);
}

/** `values` deep-merged over the chart's own values.yaml, as Helm renders with them. */
export function mergedHelmValues(chart: HelmChart, values: unknown): Record<string, unknown> {
  const merged = helmMerge(chartValidator(chart).defaults, values);
  if (!isObject(merged)) throw new Error(`${chart}: merged values are not an object`);
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Chart.yaml

function chartField(chart: HelmChart, field: "version" | "appVersion"): string {
  const meta = readYaml(path.join(CHART_DIRS[chart], "Chart.yaml"));
  const value = isObject(meta) ? meta[field] : undefined;
  if (typeof value !== "string") throw new Error(`${chart} Chart.yaml: ${field} is not a string`);
  return value;
}

/** The vendored chart's `version` from Chart.yaml (e.g. `2.9.0`, `0.34.1`). */
export function chartVersion(chart: HelmChart): string {
  return chartField(chart, "version");
}

/** The vendored chart's `appVersion` from Chart.yaml (e.g. `v2.9.0`, `2.0.4`). */
export function chartAppVersion(chart: HelmChart): string {
  return chartField(chart, "appVersion");
}

/** The vendored chart's own `values.yaml`, parsed: what the chart does where we set nothing. */
export function chartDefaults(chart: HelmChart): Record<string, unknown> {
  return structuredClone(chartValidator(chart).defaults) as Record<string, unknown>;
}
