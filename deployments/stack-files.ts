/** What the deployments project reads from the main program's committed stack files. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { Cloud } from "./settings";

/** The cloud backends a stack of the main program uses (`veza-secrets:providers` in `Pulumi.<stack>.yaml`). */
export function stackClouds(stack: string, root = path.join(__dirname, "..")): Cloud[] {
  const doc = yaml.load(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> } | undefined;
  const providers = doc?.config?.["veza-secrets:providers"];
  return (Array.isArray(providers) ? providers : []).filter((p): p is Cloud => p === "aws" || p === "gcp" || p === "azure");
}
