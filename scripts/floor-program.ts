/**
 * The benchmark's floor: a program that registers `FLOOR_RESOURCES` bare custom resources
 * and nothing else, loaded exactly like the real program (same Pulumi.yaml runtime options,
 * same loader, same SDK), so the difference is what the program itself costs.
 */
import * as pulumi from "@pulumi/pulumi";

class Bare extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:index:Bare", name, {});
  }
}

const count = Number(process.env.FLOOR_RESOURCES ?? 0);
for (let i = 0; i < count; i++) new Bare(`bare-${i}`);
