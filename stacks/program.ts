/**
 * The program: read and validate the stack's config, then build the platform.
 * Config is validated before anything is registered, so bad config creates nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { CATALOG, type SecretSpec } from "../components/catalog";
import { loadStackConfig } from "./config";
import { runtimeConfigSource } from "./config-model";
import { buildPlatform, type PlatformOutputs } from "./platform";

export async function run(catalog: readonly SecretSpec[] = CATALOG): Promise<PlatformOutputs> {
  const config = loadStackConfig(runtimeConfigSource(), pulumi.getStack(), catalog);
  return buildPlatform(config, catalog);
}
