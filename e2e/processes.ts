/**
 * Child processes of the e2e: started on 127.0.0.1 with free ports, logged to files, always
 * stopped (on exit, on SIGINT/SIGTERM, and by `stopAll`), and every wait bounded in time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const running = new Set<ChildProcess>();

/** A free TCP port on 127.0.0.1 (the kernel's choice, released before use). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Started {
  name: string;
  child: ChildProcess;
  log: string;
  /** Stops the process (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Start `cmd` with its output in `<logDir>/<name>.log`. */
export function start(name: string, cmd: string, args: string[], logDir: string, env: NodeJS.ProcessEnv = process.env): Started {
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, `${name}.log`);
  const out = createWriteStream(log);
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: false });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  running.add(child);
  child.on("exit", () => running.delete(child));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { name, child, log, stop };
}

/** Stop every process still running (reverse start order). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].reverse().map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          c.kill("SIGTERM");
          setTimeout(() => c.kill("SIGKILL"), 10_000).unref();
        }),
    ),
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const c of running) c.kill("SIGKILL");
    process.exit(130);
  });
}
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

/** Poll `probe` every `intervalMs` until it returns true, at most `timeoutMs`; throws with `what` and the last error. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 250, process?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (process && (process.child.exitCode !== null || process.child.signalCode !== null))
      throw new Error(`${what}: ${process.name} exited (${process.child.exitCode ?? process.child.signalCode}); see ${process.log}`);
    try {
      if (await probe()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000} s${last ? ` (last: ${last})` : ""}${process ? `; see ${process.log}` : ""}`);
}

/** Seconds since `t0` (ms), to one decimal. */
export function secondsSince(t0: number): number {
  return Math.round((Date.now() - t0) / 100) / 10;
}
