/**
 * The real tools the e2e runs, each pinned and built from the Go module proxy alone by
 * `npm run e2e:tools` (e2e/build-tools.ts) from a wrapper module of ours under `e2e/tools/`.
 * Binaries live outside the repository, in a cache keyed by tool, version and recipe, so a
 * warm machine (and CI on it) rebuilds nothing.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";

export type ToolName =
  "pulumi" | "pulumi-resource-kubernetes" | "etcd" | "kube-apiserver" | "kube-controller-manager" | "kubectl" | "vault" | "external-secrets";

export interface ToolRecipe {
  name: ToolName;
  /** The version built (what `<tool> version` reports). */
  version: string;
  /** Wrapper module directory under e2e/tools/. */
  dir: string;
  /** The Go package built. */
  pkg: string;
  /** Build tags. */
  tags?: string[];
  /** `-X` assignments for the linker. */
  ldflagsX?: Record<string, string>;
  /** How the build prepares its tree: the wrapper as is, Vault's patched sdk beside it, or the Kubernetes provider's module copied out of the cache. */
  kind: "wrapper" | "vault" | "kubernetes-provider";
  /** kubernetes-provider: the module copied out of the module cache, and the replaces set in its go.mod. */
  module?: string;
  replace?: Record<string, string>;
  /** Files of a served module copied next to the binary (`module@version` and paths inside it), e.g. a CRD the tool needs. */
  moduleFiles?: { module: string; files: string[] };
  /** How to ask the binary for its version (none: the provider answers only the engine). */
  versionArgs: string[];
  /** Where a user without the cache gets it (printed with a skip). */
  install: string;
}

const K8S = "v1.34.4";

/** What `--version` of a Kubernetes binary built outside its Makefile reports, set at link time. */
const K8S_VERSION_LDFLAGS = {
  "k8s.io/component-base/version.gitVersion": K8S,
  "k8s.io/component-base/version.gitMajor": "1",
  "k8s.io/component-base/version.gitMinor": "34",
  "k8s.io/component-base/version.gitTreeState": "clean",
};

export const TOOLS: readonly ToolRecipe[] = [
  {
    name: "pulumi",
    version: "v3.248.0",
    dir: "pulumi",
    pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    tags: ["osusergo", "grpcnotrace"],
    ldflagsX: { "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version": "v3.248.0" },
    kind: "wrapper",
    versionArgs: ["version"],
    install: "npm run e2e:tools, or https://www.pulumi.com/docs/install/ (3.248.0 or later)",
  },
  {
    name: "pulumi-resource-kubernetes",
    version: "4.25.0",
    dir: "kubernetes-provider",
    pkg: "./cmd/pulumi-resource-kubernetes",
    ldflagsX: { "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version": "4.25.0" },
    kind: "kubernetes-provider",
    // The only provider/v4 the proxy serves; its go.mod points sdk/v4 at ../sdk, which the
    // module zip lacks, so it is pointed at the proxy's sdk/v4 of the same release.
    module: "github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199",
    replace: { "github.com/pulumi/pulumi-kubernetes/sdk/v4": "github.com/pulumi/pulumi-kubernetes/sdk/v4@v4.25.0" },
    versionArgs: [],
    install: "npm run e2e:tools, or pulumi plugin install resource kubernetes (then put it on PATH)",
  },
  {
    name: "etcd",
    version: "3.6.17",
    dir: "etcd",
    pkg: "go.etcd.io/etcd/server/v3",
    kind: "wrapper",
    versionArgs: ["--version"],
    install: "npm run e2e:tools",
  },
  {
    name: "kube-apiserver",
    version: K8S,
    dir: "kube-apiserver",
    pkg: "k8s.io/kubernetes/cmd/kube-apiserver",
    ldflagsX: K8S_VERSION_LDFLAGS,
    kind: "wrapper",
    versionArgs: ["--version"],
    install: "npm run e2e:tools",
  },
  {
    // The garbage collector (foreground deletion), the token and Job controllers: what a cluster runs besides the API server.
    name: "kube-controller-manager",
    version: K8S,
    dir: "kube-apiserver",
    pkg: "k8s.io/kubernetes/cmd/kube-controller-manager",
    ldflagsX: K8S_VERSION_LDFLAGS,
    kind: "wrapper",
    versionArgs: ["--version"],
    install: "npm run e2e:tools",
  },
  {
    // Only the Raft rehearsal's roll (`npm run vault-roll` runs kubectl); its own wrapper, so
    // adding it left the API server's and controller manager's recipes, and caches, as they were.
    name: "kubectl",
    version: K8S,
    dir: "kubectl",
    pkg: "k8s.io/kubernetes/cmd/kubectl",
    ldflagsX: K8S_VERSION_LDFLAGS,
    kind: "wrapper",
    versionArgs: ["version", "--client"],
    install: "npm run e2e:tools, or https://kubernetes.io/docs/tasks/tools/ (1.34)",
  },
  {
    name: "vault",
    version: "v1.21.4",
    dir: "vault",
    pkg: ".",
    kind: "vault",
    versionArgs: ["version"],
    install: "npm run e2e:tools, or https://developer.hashicorp.com/vault/install (1.21)",
  },
  {
    // The controller (the chart's `external-secrets` container): v0.16.2 is the only release the
    // proxy serves whole (the program pins chart 2.9.0; e2e/eso.ts says what differs).
    name: "external-secrets",
    version: "v0.16.2",
    dir: "external-secrets",
    pkg: "github.com/external-secrets/external-secrets",
    kind: "wrapper",
    moduleFiles: {
      module: "github.com/external-secrets/external-secrets@v0.16.2",
      files: ["config/crds/bases/generators.external-secrets.io_generatorstates.yaml"],
    },
    versionArgs: [],
    install: "npm run e2e:tools -- external-secrets",
  },
];

export const TOOLS_SOURCE = join(__dirname, "tools");

/** Root of the tools cache: `VEZA_E2E_CACHE`, default `~/.cache/veza-secrets/e2e`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.VEZA_E2E_CACHE || join(homedir(), ".cache", "veza-secrets", "e2e");
}

/** A short hash of a tool's recipe and wrapper files: a changed recipe builds into a new directory. */
export function recipeHash(tool: ToolRecipe): string {
  // What decides the binary: not how it is asked for its version or where a user gets it.
  const { name, version, dir: source, pkg, tags, ldflagsX, kind, module, replace, moduleFiles } = tool;
  const h = createHash("sha256").update(JSON.stringify({ name, version, dir: source, pkg, tags, ldflagsX, kind, module, replace, moduleFiles }));
  const dir = join(TOOLS_SOURCE, tool.dir);
  for (const file of readdirSync(dir).sort()) h.update(file).update(readFileSync(join(dir, file)));
  return h.digest("hex").slice(0, 12);
}

/** `<cache>/<name>-<version>-<recipe hash>/bin`: where a tool's binary is built. */
export function toolBinDir(tool: ToolRecipe, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), `${tool.name}-${tool.version}-${recipeHash(tool)}`, "bin");
}

export interface FoundTool {
  name: ToolName;
  path: string;
  /** `cache` (built by e2e:tools at the pinned version) or `PATH` (the user's own). */
  from: "cache" | "PATH";
}

/** The tool from the cache, else from PATH, else undefined. */
export function findTool(tool: ToolRecipe, env: NodeJS.ProcessEnv = process.env): FoundTool | undefined {
  const cached = join(toolBinDir(tool, env), tool.name);
  if (existsSync(cached)) return { name: tool.name, path: cached, from: "cache" };
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, tool.name))) return { name: tool.name, path: join(dir, tool.name), from: "PATH" };
  }
  return undefined;
}

export function tool(name: ToolName): ToolRecipe {
  return TOOLS.find((t) => t.name === name) as ToolRecipe;
}
