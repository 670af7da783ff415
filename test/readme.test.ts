import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CATALOG, serviceSecrets, suppliedSecrets } from "../components/catalog";
import { ROOT, engineConfig, fakesForMissing, runProgram, stackConfig, unwrapSecrets } from "../harness";
import { loadStackConfig } from "../stacks/config";
import { applyBlocks, applyYamlBlock, generatedBlocks, generatedFiles, secretsTable } from "../scripts/readme";
import { POLICIES } from "../policy/policies";
import { substitute } from "./fix-check";
import { applyArgv, splitCommands } from "./pulumi-cli";

describe("README", () => {
  it("has the generated secrets table, diagrams and figures up to date, wherever they live (run `npm run readme`)", async () => {
    const files = await generatedFiles();
    for (const f of files) assert.equal(f.next, f.current, `${path.relative(ROOT, f.file)} is stale: run npm run readme`);
    const all = files.map((f) => f.current).join("\n");
    for (const name of Object.keys(await generatedBlocks())) assert.equal(all.split(`<!-- generated:${name} -->`).length, 2, `${name} appears once`);
  });

  it("has Pulumi.yaml declaring exactly the catalog's supplied secrets, as secrets (run `npm run readme`)", async () => {
    for (const f of await generatedFiles()) assert.equal(f.next, f.current, `${path.relative(ROOT, f.file)} is stale`);
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, { type?: string; secret?: boolean }> };
    const declaredSecrets = Object.entries(project.config)
      .filter(([, v]) => v.secret)
      .map(([k]) => k.replace(/^veza-secrets:/, ""));
    assert.deepEqual(
      declaredSecrets,
      suppliedSecrets(CATALOG).map((s) => s.source.configKey),
    );
    assert.throws(() => applyYamlBlock("config:\n", "catalog-secrets", ""), /Pulumi.yaml has no # generated:catalog-secrets block/);
  });

  it("lists every catalog key once in the secrets table", () => {
    const rows = secretsTable()
      .split("\n")
      .filter((l) => l.startsWith("| `"));
    assert.deepEqual(
      rows.map((r) => r.split("|")[1].trim()),
      CATALOG.map((s) => `\`${s.key}\``),
    );
  });

  it("notices a stale block", () => {
    const stale = "x\n<!-- generated:secrets-table -->\nold\n<!-- /generated:secrets-table -->\n";
    assert.notEqual(applyBlocks(stale, { "secrets-table": secretsTable() }), stale);
    assert.throws(() => applyBlocks("no markers", { "secrets-table": "" }), /README.md has no <!-- generated:secrets-table --> block/);
  });

  const readme = (): string => fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

  it("leads with the offline quickstart, not a command that needs a login, a stack and secrets", () => {
    const firstScreen = readme().split("\n").slice(0, 25).join("\n");
    assert.ok(firstScreen.includes("npm ci && npm test"));
    assert.ok(firstScreen.includes("npm run plan -- development"));
    assert.ok(!firstScreen.includes("pulumi up"), "pulumi up needs a backend, a stack and secrets: not on the first screen");
  });

  it("stays short, with a contents list whose every link resolves", () => {
    const text = readme();
    assert.ok(text.split("\n").length <= 300, `README.md has ${text.split("\n").length} lines`);
    const anchors = new Set(
      text
        .split("\n")
        .filter((l) => /^#{2,3} /.test(l))
        .map((l) =>
          l
            .replace(/^#+ /, "")
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, "")
            .replace(/ /g, "-"),
        ),
    );
    const contents = text.slice(text.indexOf("## Contents"), text.indexOf("## Prerequisites"));
    const links = [...contents.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(links.length >= 10, `${links.length} links`);
    for (const link of links) {
      if (link.startsWith("#")) assert.ok(anchors.has(link.slice(1)), `no heading for ${link}`);
      else assert.ok(fs.existsSync(path.join(ROOT, link)), `no file ${link}`);
    }
  });

  it("names only files, npm scripts and URNs that exist", async () => {
    const text = readme();
    const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    for (const m of text.matchAll(/npm run ([a-z0-9:-]+)/g)) assert.ok(scripts.includes(m[1]), `npm run ${m[1]}`);
    for (const f of ["kind-cluster.yaml", "components/catalog.ts", "docs/vault-bootstrap.md", "test/one-line.test.ts"])
      assert.ok(text.includes(f) && fs.existsSync(path.join(ROOT, f)), f);
    // The --replace URNs of the rotation recipe are the program's own.
    const prefix = /G='([^']+)'/.exec(text)?.[1];
    assert.ok(prefix, "the recipe defines G");
    const run = await runProgram({ stack: "production" });
    const names = [...text.matchAll(/"\$G::([a-z0-9-]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names, ["generated-keys-chat-server-secret", "generated-keys-jwt-secret-a", "generated-keys-jwt-secret-b"]);
    for (const n of names)
      assert.ok(
        run.resources.some((r) => r.urn === `${prefix}::${n}`),
        `${prefix}::${n}`,
      );
    // The database recipe's role and connection names are the ones the program writes.
    const inputs = run.resources.filter((r) => r.type.startsWith("vault:database/")).map((r) => `${String(r.inputs.backend)}/${String(r.inputs.name)}`);
    assert.ok(text.includes("vault write -f database/rotate-role/veza-app") && inputs.includes("database/veza-app"), inputs.join(", "));
    assert.ok(text.includes("vault write -f database/rotate-root/veza") && inputs.includes("database/veza"), inputs.join(", "));
  });

  it("has no <placeholder> a shell would read as a redirection in any command, nor has docs/*.md", () => {
    const docs = fs
      .readdirSync(path.join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => fs.readFileSync(path.join(ROOT, "docs", f), "utf8"));
    const commands = [readme(), ...docs]
      .join("\n")
      .split("\n")
      .flatMap((l) => [...l.matchAll(/`([^`]+)`/g)].map((m) => m[1]).concat(/^(pulumi|kubectl|npm|kind|vault|S=|G=) /.test(l) ? [l] : []))
      .filter((c) => /^(pulumi|kubectl|npm|kind|vault) /.test(c));
    assert.ok(commands.length > 30, `${commands.length} commands`);
    for (const c of commands) assert.doesNotMatch(c.replace(/'[^']*'|"[^"]*"/g, "''"), /<[A-Za-z]/, c);
  });

  it("prints the development Secret's keys the verify step should show", () => {
    const shared = serviceSecrets(CATALOG).find((x) => x.name === "veza-secrets");
    assert.ok(shared && readme().includes(["```text", ...[...shared.keys].sort(), "```"].join("\n")));
  });

  it("describes veza-secrets as ESO will write it in development: Opaque, those keys, owned by its ExternalSecret, Reloader's annotation", async () => {
    const text = readme().replace(/\s+/g, " ");
    assert.ok(
      text.includes(
        'shows `"type": "Opaque"`, those keys under `data`, an `ownerReferences` entry of kind `ExternalSecret` and the annotation `reloader.stakater.com/match: "true"`',
      ),
    );
    const run = await runProgram({ stack: "development" });
    const es = run.resources.find(
      (r) => r.type === "kubernetes:external-secrets.io/v1:ExternalSecret" && (r.inputs.metadata as { name: string }).name === "veza-secrets",
    );
    const target = (
      unwrapSecrets(es?.inputs.spec) as {
        target: {
          name: string;
          creationPolicy: string;
          template: { type: string; data: Record<string, string>; metadata: { annotations: Record<string, string> } };
        };
      }
    ).target;
    // creationPolicy Owner: ESO sets the ExternalSecret as the Secret's owner.
    assert.deepEqual([target.name, target.creationPolicy, target.template.type], ["veza-secrets", "Owner", "Opaque"]);
    assert.deepEqual(Object.keys(target.template.data).sort(), [...(serviceSecrets(CATALOG).find((x) => x.name === "veza-secrets")?.keys ?? [])].sort());
    assert.equal(target.template.metadata.annotations["reloader.stakater.com/match"], "true");
  });
});

describe("kind-cluster.yaml (README quickstart: kind create cluster --config kind-cluster.yaml)", () => {
  // Closed field lists from kubernetes-sigs/kind pkg/apis/config/v1alpha4/types.go (kind refuses unknown fields).
  const CLUSTER = [
    "kind",
    "apiVersion",
    "name",
    "nodes",
    "networking",
    "featureGates",
    "runtimeConfig",
    "kubeadmConfigPatches",
    "kubeadmConfigPatchesJSON6902",
    "containerdConfigPatches",
    "containerdConfigPatchesJSON6902",
  ];
  const NODE = ["role", "image", "labels", "extraMounts", "extraPortMappings", "gpus", "kubeadmConfigPatches", "kubeadmConfigPatchesJSON6902"];
  const PORT = ["containerPort", "hostPort", "listenAddress", "protocol"];
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, "kind-cluster.yaml"), "utf8")) as Record<string, unknown> & {
    nodes: (Record<string, unknown> & { extraPortMappings?: Record<string, unknown>[] })[];
  };

  it("is a kind v1alpha4 Cluster with only fields kind knows", () => {
    assert.equal(doc.kind, "Cluster");
    assert.equal(doc.apiVersion, "kind.x-k8s.io/v1alpha4");
    assert.deepEqual(
      Object.keys(doc).filter((k) => !CLUSTER.includes(k)),
      [],
    );
    for (const n of doc.nodes) {
      assert.deepEqual(
        Object.keys(n).filter((k) => !NODE.includes(k)),
        [],
      );
      for (const m of n.extraPortMappings ?? [])
        assert.deepEqual(
          Object.keys(m).filter((k) => !PORT.includes(k)),
          [],
        );
    }
  });

  it("publishes the dev Vault's NodePort on 127.0.0.1, where the development stack's Vault provider looks", () => {
    const values = stackConfig("development");
    const secrets = fakesForMissing(values);
    const dev = loadStackConfig({ values: { ...engineConfig(values), ...secrets }, secretKeys: new Set(Object.keys(secrets)) }, "development");
    assert.ok(dev.vault);
    const mappings = doc.nodes.flatMap((n) => n.extraPortMappings ?? []);
    assert.deepEqual(mappings, [{ containerPort: dev.vault.devNodePort, hostPort: dev.vault.devNodePort, listenAddress: "127.0.0.1", protocol: "TCP" }]);
    assert.equal(dev.vault.address, `http://127.0.0.1:${dev.vault.devNodePort}`);
    assert.equal(doc.name, "veza", "the README's kubectl context is kind-veza");
  });
});

describe("the pulumi config commands in README.md and docs/*.md", () => {
  /** Shell variables and command substitutions the docs use, with stand-ins. */
  const env = {
    S: "development-alice",
    USER: "alice",
    ORG: "veza",
    SHA: "0123456789abcdef0123456789abcdef01234567",
    TOKEN: "hvs.FAKE-SECRET-token-5f3c9a",
    GROUP: "veza-secrets",
  };
  const stand = (command: string): string => {
    if (command === "minikube ip") return "192.168.49.2";
    if (/^cat \S+\.kubeconfig$/.test(command)) return "apiVersion: v1\nkind: Config\n";
    return substitute(command);
  };
  /** Every `pulumi config set|rm` a person may paste: code lines and inline commands, outside generated blocks. */
  function commands(): { file: string; line: string }[] {
    const files = [
      "README.md",
      ...fs
        .readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => path.join("docs", f)),
    ];
    const out: { file: string; line: string }[] = [];
    for (const file of files) {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8").replace(/<!-- generated:([a-z-]+) -->[\s\S]*?<!-- \/generated:\1 -->/g, "");
      for (const l of text.split("\n")) {
        const found = [...l.matchAll(/`(pulumi config (?:set|rm) [^`]+)`/g)].map((m) => m[1]);
        if (/^\s*pulumi config (set|rm) /.test(l)) found.push(l.trim());
        for (const line of found) out.push({ file, line });
      }
    }
    return out;
  }

  it("run under the CLI's rules, each naming its stack, no placeholder a shell would misread", () => {
    const all = commands();
    assert.ok(all.length > 25, `${all.length} commands`);
    let applied = 0;
    for (const { file, line } of all) {
      const argvs = splitCommands(line, stand, env).filter((a) => a[0] === "pulumi" && a[1] === "config");
      for (const argv of argvs) {
        // Prose that names the command without a key ("`pulumi config set --secret`") is not a command.
        if (!argv.slice(3).some((a) => !a.startsWith("-"))) continue;
        assert.doesNotThrow(() => applyArgv({}, argv, { project: "veza-secrets", prompt: () => "FAKE-SECRET-prompted-5f3c9a" }), `${file}: ${line}`);
        applied++;
      }
    }
    assert.ok(applied > 25, `${applied} applied`);
  });
});

describe("README prerequisites", () => {
  it("name the Pulumi CLI release the workflows install", () => {
    const text = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const pinned = new Set(
      fs
        .readdirSync(path.join(ROOT, ".github", "workflows"))
        .flatMap((f) => [...fs.readFileSync(path.join(ROOT, ".github", "workflows", f), "utf8").matchAll(/pulumi-version: (\S+)/g)].map((m) => m[1])),
    );
    assert.equal(pinned.size, 1, [...pinned].join(", "));
    const row = text.split("\n").find((l) => l.startsWith("| Pulumi CLI |")) ?? "";
    assert.ok(row.includes(`${[...pinned][0]} or later`), row);
  });
});

describe("README delivery", () => {
  it("counts the policy pack's policies as policy/policies.ts defines them", () => {
    const text = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    const mandatory = POLICIES.filter((p) => p.enforcementLevel === "mandatory").length;
    assert.ok(text.includes(`${POLICIES.length} policies, ${mandatory} mandatory`), `${POLICIES.length} policies, ${mandatory} mandatory`);
  });
});

describe("per-engineer stacks (README: Your own stack on a local cluster)", () => {
  it("git ignores Pulumi.development-$USER.yaml, never the committed stack files", () => {
    const ignored = (f: string): boolean => {
      try {
        execFileSync("git", ["check-ignore", "-q", "--no-index", f], { cwd: ROOT, stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(ignored("Pulumi.development-alice.yaml"));
    for (const stack of ["development", "staging", "production"]) assert.ok(!ignored(`Pulumi.${stack}.yaml`), stack);
    assert.ok(fs.readFileSync(path.join(ROOT, "README.md"), "utf8").includes("S=development-$USER"));
  });
});
