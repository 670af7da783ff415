/**
 * Launchers for the stand-in providers: `pulumi-resource-vault` and `pulumi-resource-random`
 * scripts in a directory put first on the engine's PATH, each running its TypeScript file
 * with this checkout's tsx.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function standInBin(root: string): string {
  const dir = join(root, "stand-in-bin");
  mkdirSync(dir, { recursive: true });
  const tsx = require.resolve("tsx/cjs");
  for (const name of ["vault", "random"]) {
    const file = join(dir, `pulumi-resource-${name}`);
    writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" --require "${tsx}" "${join(__dirname, `${name}.ts`)}" "$@"\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}
