/**
 * The PostgreSQL helper itself (test/postgres.ts): that it starts from any checkout location,
 * survives a port taken between picking and binding it, and never leaves a server running
 * when start-up fails or runs out of time.
 */
import * as assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOOK_TIMEOUT_MS, nativeDir, runningServers, START_BUDGET_MS, startPostgres } from "./postgres";

const native = nativeDir();

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return { server, port: address.port };
}

describe("test/postgres: the throw-away PostgreSQL server", function () {
  this.timeout(3 * HOOK_TIMEOUT_MS);

  it("gives a mocha hook more time than its own start-up budget, so a slow start settles before mocha gives up", () => {
    assert.ok(HOOK_TIMEOUT_MS > START_BUDGET_MS);
  });

  it("starts, answers over TCP with password authentication, and stops without leaving its process or data behind", async () => {
    const pg = await startPostgres();
    assert.equal(runningServers(), 1);
    const su = await pg.connect(pg.superuser);
    const { rows } = await su.query<{ v: string; ssl: string }>(
      "SELECT current_setting('server_version_num') AS v, current_setting('listen_addresses') AS ssl",
    );
    assert.match(rows[0].v, /^\d{6}$/);
    assert.equal(rows[0].ssl, "127.0.0.1");
    await assert.rejects(pg.connect({ user: pg.superuser.user, password: "wrong" }), /password authentication failed/);
    const dataDir = (await su.query<{ d: string }>("SHOW data_directory")).rows[0].d;
    await pg.stop();
    assert.equal(runningServers(), 0);
    assert.equal(existsSync(dataDir), false, "data directory removed");
    await pg.stop(); // idempotent
  });

  it("moves to another port when the one it picked was taken before postgres could bind it", async () => {
    const taken = await listen();
    const picked: number[] = [];
    const pg = await startPostgres({
      pickPort: async () => {
        // First the busy port (what the race produces), then one nobody holds.
        const port =
          picked.length === 0 ? taken.port : await listen().then(({ server, port }) => new Promise<number>((done) => server.close(() => done(port))));
        picked.push(port);
        return port;
      },
    });
    try {
      assert.equal(picked.length, 2);
      assert.equal(pg.port, picked[1]);
      const su = await pg.connect(pg.superuser);
      assert.equal((await su.query<{ one: number }>("SELECT 1 AS one")).rows[0].one, 1);
    } finally {
      await pg.stop();
      taken.server.close();
    }
  });

  it("rejects within its budget, with nothing left running, when start-up is too slow", async () => {
    const started = Date.now();
    await assert.rejects(startPostgres({ budgetMs: 50 }), /within the start-up budget \(50 ms\)/);
    assert.ok(Date.now() - started < 15_000, "settles promptly");
    assert.equal(runningServers(), 0);
  });

  it("runs from binaries in a folder only their owner can enter (a clone under /root, or in `mktemp -d`)", async function () {
    if (process.getuid?.() !== 0) {
      // As any other user the server runs as that user, who can always reach their own clone.
      this.skip();
    }
    const closed = mkdtempSync(join(tmpdir(), "veza-closed-")); // mode 0700, like /root
    try {
      cpSync(native, join(closed, "native"), { recursive: true, verbatimSymlinks: true });
      const pg = await startPostgres({ native: join(closed, "native") });
      try {
        const su = await pg.connect(pg.superuser);
        assert.equal((await su.query<{ u: string }>("SELECT current_user AS u")).rows[0].u, "postgres");
      } finally {
        await pg.stop();
      }
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });
});
