/**
 * What the Pulumi CLI does with a stack's config around the program (sources as in
 * test/pulumi-cli.ts): the check `pulumi up` runs before the program starts, against the
 * `config:` declarations of Pulumi.yaml, and the strings the engine then hands the program.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { type StackFileConfig, isContainer, isSecure } from "./pulumi-cli";

interface ProjectConfigType {
  type?: string;
  items?: ProjectConfigType;
  secret?: boolean;
  default?: unknown;
  value?: unknown;
}

/** The `config:` declarations of a Pulumi.yaml. */
export function readProjectConfig(file: string): { name: string; config: Record<string, ProjectConfigType> } {
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { name: string; config?: Record<string, ProjectConfigType> };
  return { name: doc.name, config: doc.config ?? {} };
}

function validValue(type: string, items: ProjectConfigType | undefined, value: unknown): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value));
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    default:
      return Array.isArray(value) && items?.type !== undefined && value.every((v) => validValue(items.type as string, items.items, v));
  }
}

/**
 * What `pulumi up` checks before the program runs; the errors it would print, in its words.
 * A value stored as a YAML scalar is seen as its text; a map or list as itself.
 */
export function preRunErrors(stack: string, config: StackFileConfig, projectFile: string): string[] {
  const project = readProjectConfig(projectFile);
  const errors: string[] = [];
  const missing: string[] = [];
  for (const key of Object.keys(project.config).sort()) {
    const decl = project.config[key];
    const fullKey = key.includes(":") ? key : `${project.name}:${key}`;
    const v = config[fullKey];
    if (v === undefined) {
      if (decl.default === undefined && decl.value === undefined && fullKey.startsWith(`${project.name}:`)) missing.push(key);
      continue;
    }
    if (decl.secret && !isSecure(v)) errors.push(`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`);
    if (decl.type) {
      const content = isSecure(v) ? v.secure : isContainer(v) ? v : String(v);
      if (!validValue(decl.type, decl.items, content))
        errors.push(`Stack '${stack}' with configuration key '${key}' must be of type '${decl.type}${decl.items?.type ? `<${decl.items.type}>` : ""}'`);
    }
  }
  if (missing.length)
    errors.unshift(`Stack '${stack}' is missing configuration value${missing.length > 1 ? "s" : ""} ${missing.map((k) => `'${k}'`).join(", ")}`);
  return errors;
}

/** The config as the engine hands it to the program: strings (objects as JSON) and which keys are secret. */
export function engineView(config: StackFileConfig): { values: Record<string, string>; secretKeys: Set<string> } {
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [k, v] of Object.entries(config)) {
    if (isSecure(v)) {
      values[k] = v.secure;
      secretKeys.add(k);
    } else values[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return { values, secretKeys };
}

export const PROJECT_FILE = path.join(__dirname, "..", "Pulumi.yaml");
