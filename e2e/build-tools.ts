/**
 * `npm run e2e:tools [-- name ...]`: build the e2e's real tools from the Go module proxy into
 * the cache (e2e/tools.ts). A tool already in the cache is not rebuilt. Prints, per tool, where
 * it is, its size and the build's wall time (0 when warm), and writes them to
 * `<cache>/<tool dir>/build.json`.
 *
 * Only modules the proxy serves are built, each from a wrapper module of ours; Vault's sdk gets
 * our two-line patch (e2e/tools/vault/sdk.patch). Nothing here builds fetched code.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { TOOLS, TOOLS_SOURCE, type ToolRecipe, toolBinDir } from "./tools";

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(cmd, args, { cwd, stdio: "inherit", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited with ${r.status ?? r.signal}`);
}

/** `go mod download -json` of a module: the directory of its read-only copy in the module cache. */
function moduleDir(modVersion: string, cwd: string): string {
  const out = execFileSync("go", ["mod", "download", "-json", modVersion], { cwd, encoding: "utf8" });
  return (JSON.parse(out) as { Dir: string }).Dir;
}

/** A writable copy of a directory (the module cache is read-only). */
function copyWritable(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const walk = (p: string): void => {
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(to);
}

/** Prepare the tree a tool builds in; returns the directory to run `go build` in. */
function prepare(tool: ToolRecipe, src: string): string {
  const wrapper = join(TOOLS_SOURCE, tool.dir);
  switch (tool.kind) {
    case "wrapper":
      cpSync(wrapper, src, { recursive: true });
      return src;
    case "vault": {
      cpSync(wrapper, src, { recursive: true });
      // Vault v1.21.4 was built against an unpublished sdk between v0.20.0 and v0.21.0: take the
      // published v0.21.0 and put back the two signatures the vault tree calls.
      copyWritable(moduleDir("github.com/hashicorp/vault/sdk@v0.21.0", src), join(src, "sdk"));
      run("patch", ["-p1", "-d", join(src, "sdk"), "-i", join(wrapper, "sdk.patch")], src);
      return src;
    }
    case "kubernetes-provider": {
      mkdirSync(dirname(src), { recursive: true });
      copyWritable(moduleDir(tool.module as string, dirname(src)), src);
      for (const [from, to] of Object.entries(tool.replace ?? {})) run("go", ["mod", "edit", `-replace=${from}=${to}`], src);
      run("go", ["mod", "download", "all"], src, { GOFLAGS: "-mod=mod" });
      // The schema the provider embeds, generated as its Makefile does.
      run("go", ["run", "./generate.go"], join(src, "cmd", "pulumi-resource-kubernetes"), { VERSION: tool.version, GOFLAGS: "-mod=mod" });
      return src;
    }
  }
}

function build(tool: ToolRecipe): { seconds: number; built: boolean } {
  const bin = toolBinDir(tool);
  const target = join(bin, tool.name);
  if (existsSync(target)) return { seconds: 0, built: false };
  const root = dirname(bin);
  const src = join(root, "src");
  rmSync(src, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  const started = Date.now();
  const cwd = prepare(tool, src);
  const ldflags = ["-s", "-w", ...Object.entries(tool.ldflagsX ?? {}).map(([k, v]) => `-X ${k}=${v}`)].join(" ");
  const args = ["build", "-p", "2", "-trimpath", "-ldflags", ldflags, ...(tool.tags ? ["-tags", tool.tags.join(",")] : []), "-o", `${target}.tmp`, tool.pkg];
  run("go", args, cwd, { CGO_ENABLED: "0", GOFLAGS: tool.kind === "kubernetes-provider" ? "-mod=mod" : "" });
  if (tool.moduleFiles) {
    const from = moduleDir(tool.moduleFiles.module, cwd);
    for (const f of tool.moduleFiles.files) cpSync(join(from, f), join(bin, basename(f)));
  }
  renameSync(`${target}.tmp`, target);
  const seconds = Math.round((Date.now() - started) / 1000);
  rmSync(src, { recursive: true, force: true });
  writeFileSync(
    join(root, "build.json"),
    JSON.stringify({ tool: tool.name, version: tool.version, seconds, bytes: statSync(target).size, at: new Date().toISOString() }, null, 2),
  );
  return { seconds, built: true };
}

function main(): void {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !TOOLS.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(`e2e:tools: unknown tool ${unknown.join(", ")}; the tools are ${TOOLS.map((t) => t.name).join(", ")}`);
    process.exit(2);
  }
  const rows: string[] = [];
  for (const tool of TOOLS.filter((t) => only.length === 0 || only.includes(t.name))) {
    console.error(`e2e:tools: ${tool.name} ${tool.version}`);
    const { seconds, built } = build(tool);
    const path = join(toolBinDir(tool), tool.name);
    rows.push(`${tool.name}\t${tool.version}\t${(statSync(path).size / 1e6).toFixed(0)} MB\t${built ? `built in ${seconds} s` : "cached"}\t${path}`);
  }
  console.log(rows.join("\n"));
}

main();
