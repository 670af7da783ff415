/**
 * What a stack would register, for reading: the plan as text (type, name, parent, key inputs;
 * secrets as `[secret]`) and as a Mermaid diagram of components, stores and Secrets.
 */
import { createHash } from "node:crypto";
import { type ProgramRun, type RecordedResource, isSecret } from ".";

const MAX_LEAVES = 14;
const MAX_STRING = 72;

/** Inputs too big to print usefully: a CRD's schema, a chart's whole values. */
export const SKIP: Record<string, string[]> = {
  "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": ["spec.versions"],
};

export function short(type: string): string {
  // kubernetes:core/v1:Namespace → k8s:Namespace; aws:secretsmanager/secret:Secret → aws:secretsmanager:Secret
  const [pkg, mod, kind] = type.split(":");
  if (!kind) return type;
  if (pkg === "kubernetes") return `k8s:${kind}`;
  if (pkg === "veza" || pkg === "pulumi") return type;
  return `${pkg}:${mod.split("/")[0]}:${kind}`;
}

/**
 * Flatten inputs into `[path, value]` pairs, exactly: whole strings with their line breaks,
 * secrets as `[secret]`, short lists of scalars as `[a,b]`. What `--json` and `--diff` use.
 */
export function leafEntries(value: unknown, prefix = "", skip: string[] = []): [string, string][] {
  if (skip.includes(prefix)) return [[prefix, "…"]];
  if (isSecret(value)) return [[prefix, "[secret]"]];
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "string" || typeof v === "number") && value.length <= 6) {
      return [[prefix, `[${value.join(",")}]`]];
    }
    return value.flatMap((v, i) => leafEntries(v, `${prefix}[${i}]`, skip));
  }
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .filter(([k]) => k !== "__defaults")
      .flatMap(([k, v]) => leafEntries(v, prefix ? `${prefix}.${k}` : k, skip));
  }
  return [[prefix, String(value)]];
}

/** A value as the text plan prints it: on one line, cut at `MAX_STRING` characters. */
export function oneLine(value: string, max = MAX_STRING): string {
  const s = value.replace(/\s+/g, " ");
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Flatten inputs into `path=value` leaves for reading: secrets as `[secret]`, long values cut (`leafEntries` keeps them whole). */
export function leaves(value: unknown, prefix = "", skip: string[] = []): string[] {
  return leafEntries(value, prefix, skip).map(([k, v]) => `${k}=${oneLine(v)}`);
}

function label(r: RecordedResource): string {
  return `${short(r.type)} ${r.name}`;
}

/** The plan as text: a tree by parent, one resource a line, then its key inputs. */
export function renderPlan(run: ProgramRun): string {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const children = new Map<string, RecordedResource[]>();
  for (const r of run.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const custom = run.resources.filter((r) => r.custom).length;
  const lines = [
    `# stack ${run.stack}: ${run.resources.length} resources (${custom} custom, ${run.resources.length - custom - 1} components), offline plan under Pulumi mocks`,
  ];
  const walk = (r: RecordedResource, depth: number): void => {
    const flags = [
      r.protect ? "protect" : "",
      r.retainOnDelete ? "retainOnDelete" : "",
      r.ignoreChanges.length ? `ignoreChanges=${r.ignoreChanges.join(",")}` : "",
    ].filter(Boolean);
    const deps = r.dependencies.map((d) => byUrn.get(d)).filter((d): d is RecordedResource => !!d && d.urn !== r.parent);
    lines.push(`${"  ".repeat(depth)}+ ${label(r)}${flags.length ? `  [${flags.join(" ")}]` : ""}`);
    if (deps.length) lines.push(`${"  ".repeat(depth + 2)}dependsOn: ${deps.map((d) => d.name).join(", ")}`);
    const all = leaves(r.inputs, "", SKIP[r.type] ?? []);
    for (const leaf of all.slice(0, MAX_LEAVES)) lines.push(`${"  ".repeat(depth + 2)}${leaf}`);
    if (all.length > MAX_LEAVES) lines.push(`${"  ".repeat(depth + 2)}… ${all.length - MAX_LEAVES} more inputs`);
    for (const c of children.get(r.urn) ?? []) walk(c, depth + 1);
  };
  for (const root of children.get("") ?? []) walk(root, 0);
  lines.push("", "# outputs");
  for (const leaf of leaves(run.outputs)) lines.push(`  ${leaf}`);
  return lines.join("\n");
}

function metaName(r: RecordedResource): string | undefined {
  const meta = r.inputs.metadata as { name?: unknown } | undefined;
  return typeof meta?.name === "string" ? meta.name : undefined;
}

const STORE_BACKEND: Record<string, string> = { vault: "Vault KV", aws: "AWS Secrets Manager", gcpsm: "Google Secret Manager", azurekv: "Azure Key Vault" };

/** A name as a Mermaid node id: letters, digits and `_` only. */
function mermaidName(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, "_");
}

/**
 * A stable Mermaid node id per resource: `<Kind>_<name>` (`RandomPassword_generated_keys_jwt_secret_a`),
 * the same whatever else the stack registers. Resources whose ids would clash (same kind and
 * name under different parents, or names that differ only in punctuation) each get a suffix
 * from a hash of their URN, also stable.
 */
export function mermaidIds(resources: readonly { urn: string; type: string; name: string }[]): Map<string, string> {
  const base = (r: { type: string; name: string }): string => `${mermaidName(r.type.split(":").pop() ?? r.type)}_${mermaidName(r.name)}`;
  const count = new Map<string, number>();
  for (const r of resources) count.set(base(r), (count.get(base(r)) ?? 0) + 1);
  return new Map(
    resources.map((r) => {
      const b = base(r);
      return [r.urn, (count.get(b) ?? 0) > 1 ? `${b}_${createHash("sha256").update(r.urn).digest("hex").slice(0, 8)}` : b];
    }),
  );
}

/**
 * The stack as a Mermaid flowchart: each component a box with its resources (same-type
 * siblings folded into one node), then the secret flow backend → SecretStore →
 * ExternalSecret → Kubernetes Secret → service, read off the registered inputs.
 */
export function renderMermaid(run: ProgramRun): string {
  const lines = ["flowchart LR"];
  // Order from sorted URNs, so the diagram does not depend on registration timing; ids from
  // each resource's own kind and name, so adding a resource renames no other node.
  const sorted = [...run.resources].sort((a, b) => a.urn.localeCompare(b.urn));
  const idOf = mermaidIds(sorted);
  const nodeId = (r: RecordedResource): string => idOf.get(r.urn) ?? "";
  const components = sorted.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack");
  const ids = new Map<string, string>();
  for (const comp of components) {
    lines.push(`  subgraph ${nodeId(comp)}["${comp.type.split(":").pop()} ${comp.name}"]`);
    const kids = sorted.filter((r) => r.parent === comp.urn && r.custom);
    const byType = new Map<string, RecordedResource[]>();
    for (const k of kids) byType.set(k.type, [...(byType.get(k.type) ?? []), k]);
    for (const [type, list] of byType) {
      const flowing = ["ExternalSecret", "SecretStore", "Secret", "VaultDynamicSecret"].includes(type.split(":").pop() ?? "");
      if (flowing || list.length === 1) {
        for (const k of list) {
          const id = nodeId(k);
          ids.set(k.urn, id);
          lines.push(`    ${id}["${short(k.type)}<br/>${metaName(k) ?? k.name}"]`);
        }
      } else {
        // Folded siblings: one node per component and kind, whichever of them sorts first.
        const id = `${nodeId(comp)}__${mermaidName(type.split(":").pop() ?? type)}`;
        for (const k of list) ids.set(k.urn, id);
        lines.push(`    ${id}["${list.length} × ${short(type)}"]`);
      }
    }
    lines.push("  end");
  }

  // Flow edges from the custom resources' own inputs.
  const stores = run.resources.filter(
    (r) => r.type.endsWith(":SecretStore") || (r.type.includes("CustomResource") && (r.inputs.kind as string) === "SecretStore"),
  );
  const externals = run.resources.filter((r) => (r.inputs.kind as string) === "ExternalSecret");
  const secrets = run.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
  const edges = new Set<string>();
  const backends = new Map<string, string>();
  for (const s of stores) {
    const providerSpec = ((s.inputs.spec as Record<string, unknown> | undefined)?.provider as Record<string, { path?: string }>) ?? {};
    const provider = Object.keys(providerSpec)[0];
    if (!provider) continue;
    // A Vault store without a KV mount reads other engines' paths: the database engine here.
    const kind = provider === "vault" && !providerSpec.vault?.path ? "vaultdb" : provider;
    const b = `backend_${kind}`;
    if (!backends.has(b)) backends.set(b, kind === "vaultdb" ? "Vault database engine" : (STORE_BACKEND[provider] ?? provider));
    edges.add(`  ${b} --> ${ids.get(s.urn)}`);
  }
  // VaultDynamicSecret generators read the database engine with their own Vault login.
  const generators = run.resources.filter((r) => (r.inputs.kind as string) === "VaultDynamicSecret");
  for (const g of generators) {
    if (!backends.has("backend_vaultdb")) backends.set("backend_vaultdb", "Vault database engine");
    edges.add(`  backend_vaultdb --> ${ids.get(g.urn)}`);
  }
  const services = new Map<string, string>();
  const targetNode = new Map<string, string>();
  for (const e of externals) {
    const spec = e.inputs.spec as
      | {
          secretStoreRef?: { name?: string };
          dataFrom?: { sourceRef?: { storeRef?: { name?: string }; generatorRef?: { name?: string } } }[];
          target?: { name?: string };
        }
      | undefined;
    const storeNames = [spec?.secretStoreRef?.name, ...(spec?.dataFrom ?? []).map((d) => d.sourceRef?.storeRef?.name)];
    for (const name of storeNames) {
      const store = name ? stores.find((s) => metaName(s) === name) : undefined;
      if (store) edges.add(`  ${ids.get(store.urn)} --> ${ids.get(e.urn)}`);
    }
    for (const d of spec?.dataFrom ?? []) {
      const generator = d.sourceRef?.generatorRef?.name ? generators.find((g) => metaName(g) === d.sourceRef?.generatorRef?.name) : undefined;
      if (generator) edges.add(`  ${ids.get(generator.urn)} --> ${ids.get(e.urn)}`);
    }
    const target = spec?.target?.name ?? metaName(e);
    if (target) {
      const t = `k8s_${target.replace(/[^A-Za-z0-9]/g, "_")}`;
      targetNode.set(target, t);
      edges.add(`  ${ids.get(e.urn)} --> ${t}[("Secret ${target}")]`);
    }
  }
  for (const s of secrets) {
    const n = metaName(s);
    if (n) targetNode.set(n, ids.get(s.urn) ?? "");
  }
  // Which service reads which Secret: the RBAC Roles' resourceNames and their bindings.
  const roles = run.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role");
  const bindings = run.resources.filter((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
  for (const role of roles) {
    const rules = (role.inputs.rules as { resources?: string[]; resourceNames?: string[] }[] | undefined) ?? [];
    const names = rules.filter((x) => x.resources?.includes("secrets")).flatMap((x) => x.resourceNames ?? []);
    const binding = bindings.find((b) => (b.inputs.roleRef as { name?: string } | undefined)?.name === metaName(role));
    const subjects = ((binding?.inputs.subjects as { name?: string }[] | undefined) ?? []).map((s) => s.name ?? "");
    for (const n of names) {
      for (const svc of subjects) {
        const node = targetNode.get(n);
        if (!node || !svc) continue;
        const sid = `svc_${svc.replace(/[^A-Za-z0-9]/g, "_")}`;
        services.set(sid, svc);
        edges.add(`  ${node} --> ${sid}`);
      }
    }
  }
  for (const [id, name] of backends) lines.push(`  ${id}[/"${name}"/]`);
  for (const [id, name] of services) lines.push(`  ${id}(["${name}"])`);
  lines.push(...edges);
  return lines.join("\n");
}
