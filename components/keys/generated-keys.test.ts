import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  BareResource,
  findResource,
  isSecret,
  plaintextOccurrences,
  resourcesOfType,
  runProgram,
  tryRunProgram,
  unwrapSecrets,
  type ProgramRun,
} from "../../harness";
import { generatedSecrets } from "../catalog";
import { SPEC_CATALOG } from "../../test/catalog-fixture";
import { DEFAULT_EPOCH, GeneratedKeys, MIN_KEY_LENGTH, type GeneratedKeySpec, rotationPeriod, rotationSlots } from "./generated-keys";

const CONFIG = { "veza-secrets:environment": "development", "veza-secrets:providers": ["vault"] };
const PASSWORD = "random:index/randomPassword:RandomPassword";
const DAY = 24 * 60 * 60 * 1000;
const P = 90;
const at = (ms: number) => new Date(DEFAULT_EPOCH.getTime() + ms);

/** The catalog's generated keys: jwt-secret (64, keepPrevious), chat- and stream-server-secret (48). */
const KEYS: GeneratedKeySpec[] = generatedSecrets(SPEC_CATALOG).map((s) => ({
  key: s.key,
  length: s.source.length,
  rotationDays: s.source.rotationDays,
  keepPrevious: s.source.keepPrevious,
}));

/** What the mocks return as a RandomPassword's `result` (harness FAKE_OUTPUTS). */
const fake = (resourceName: string) => `FAKE-GENERATED-${resourceName}-0000000000000000000000000000000000000000000000`;

async function runAt(now: Date, keys = KEYS): Promise<{ run: ProgramRun; values: Record<string, unknown> }> {
  const run = await runProgram({ stack: "test", config: CONFIG, program: () => new GeneratedKeys("keys", { keys, now }) });
  const values = run.componentOutputs.get(findResource(run, "veza:secrets:GeneratedKeys", "keys").urn)?.values as Record<string, unknown>;
  return { run, values };
}

const keeper = (run: ProgramRun, name: string) => (findResource(run, PASSWORD, name).inputs.keepers as { rotation: string }).rotation;

describe("components/keys/generated-keys", () => {
  describe("rotationSlots", () => {
    const ms = P * DAY;
    for (const [label, t, a, b, currentSlot, period] of [
      ["epoch - 1ms", -1, -1, -1, "b", -1],
      ["epoch", 0, 0, -1, "a", 0],
      ["epoch + P - 1ms", ms - 1, 0, -1, "a", 0],
      ["epoch + P", ms, 0, 0, "b", 1],
      ["epoch + 2P - 1ms", 2 * ms - 1, 0, 0, "b", 1],
      ["epoch + 2P", 2 * ms, 1, 0, "a", 2],
      ["epoch + 3P", 3 * ms, 1, 1, "b", 3],
      ["epoch + 3P + 45d", 3 * ms + 45 * DAY, 1, 1, "b", 3],
      ["epoch + 4P", 4 * ms, 2, 1, "a", 4],
      ["epoch + 5P", 5 * ms, 2, 2, "b", 5],
    ] as const) {
      it(`at ${label}: slots a=${a} b=${b}, current ${currentSlot}`, () => {
        assert.deepEqual(rotationSlots(at(t), DEFAULT_EPOCH, P), { slots: { a, b }, currentSlot });
        assert.equal(rotationPeriod(at(t), DEFAULT_EPOCH, P), period);
      });
    }

    it("changes exactly one slot at each boundary, and that slot becomes current", () => {
      const ms = P * DAY;
      for (let k = 0; k < 12; k++) {
        const before = rotationSlots(at((k + 1) * ms - 1), DEFAULT_EPOCH, P);
        const after = rotationSlots(at((k + 1) * ms), DEFAULT_EPOCH, P);
        const changed = (["a", "b"] as const).filter((s) => before.slots[s] !== after.slots[s]);
        assert.deepEqual(changed, [after.currentSlot], `boundary ${k + 1}`);
        assert.notEqual(before.currentSlot, after.currentSlot);
      }
    });
  });

  describe("component", () => {
    let run: ProgramRun;
    let values: Record<string, unknown>;
    beforeEach(async () => {
      ({ run, values } = await runAt(at(10 * DAY)));
    });

    it("registers exactly these passwords, alphanumeric, at the asked lengths, result marked secret", () => {
      const passwords = resourcesOfType(run, PASSWORD).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        passwords.map((r) => [r.name, r.inputs.length, r.inputs.special]),
        [
          ["keys-chat-server-secret", 48, false],
          ["keys-jwt-secret-a", 64, false],
          ["keys-jwt-secret-b", 64, false],
          ["keys-stream-server-secret", 48, false],
        ],
      );
      const component = findResource(run, "veza:secrets:GeneratedKeys", "keys");
      for (const r of passwords) {
        assert.equal(r.parent, component.urn, r.name);
        // Set by RandomPassword itself, not by the component: this catches an SDK that stops.
        assert.ok(r.additionalSecretOutputs.includes("result"), r.name);
        // Rotation replaces the resource, which a protected resource refuses (see the header).
        assert.equal(r.protect, false, r.name);
      }
    });

    it("keys every password on its rotation period", () => {
      assert.equal(keeper(run, "keys-jwt-secret-a"), "0");
      assert.equal(keeper(run, "keys-jwt-secret-b"), "-1");
      assert.equal(keeper(run, "keys-chat-server-secret"), "0");
      assert.equal(keeper(run, "keys-stream-server-secret"), "0");
    });

    it("outputs every key and jwt-secret-previous as secrets, current from slot A in period 0", () => {
      // The engine's serialisation sorts keys; the component builds them in argument order.
      assert.deepEqual(Object.keys(values).sort(), ["chat-server-secret", "jwt-secret", "jwt-secret-previous", "stream-server-secret"]);
      for (const [k, v] of Object.entries(values)) assert.ok(isSecret(v), k);
      assert.deepEqual(unwrapSecrets(values), {
        "jwt-secret": fake("keys-jwt-secret-a"),
        "jwt-secret-previous": fake("keys-jwt-secret-b"),
        "chat-server-secret": fake("keys-chat-server-secret"),
        "stream-server-secret": fake("keys-stream-server-secret"),
      });
    });
  });

  it("after a boundary, rotates only the older slot and publishes the old current value as -previous", async () => {
    const before = await runAt(at(P * DAY - 1));
    const after = await runAt(at(P * DAY));
    // Slot B's window starts: its keeper changes, so the provider makes a new value there.
    assert.deepEqual([keeper(before.run, "keys-jwt-secret-a"), keeper(before.run, "keys-jwt-secret-b")], ["0", "-1"]);
    assert.deepEqual([keeper(after.run, "keys-jwt-secret-a"), keeper(after.run, "keys-jwt-secret-b")], ["0", "0"]);
    assert.equal(unwrapSecrets(before.values["jwt-secret"]), fake("keys-jwt-secret-a"));
    assert.equal(unwrapSecrets(before.values["jwt-secret-previous"]), fake("keys-jwt-secret-b"));
    assert.equal(unwrapSecrets(after.values["jwt-secret"]), fake("keys-jwt-secret-b"));
    // What was current (slot A, keeper unchanged, so the same value) stays valid one more period.
    assert.equal(unwrapSecrets(after.values["jwt-secret-previous"]), unwrapSecrets(before.values["jwt-secret"]));
    // Single-slot keys simply move to the next period.
    assert.equal(keeper(before.run, "keys-chat-server-secret"), "0");
    assert.equal(keeper(after.run, "keys-chat-server-secret"), "1");

    const third = await runAt(at(2 * P * DAY));
    assert.deepEqual([keeper(third.run, "keys-jwt-secret-a"), keeper(third.run, "keys-jwt-secret-b")], ["1", "0"]);
    assert.equal(unwrapSecrets(third.values["jwt-secret"]), fake("keys-jwt-secret-a"));
    assert.equal(unwrapSecrets(third.values["jwt-secret-previous"]), unwrapSecrets(after.values["jwt-secret"]));
  });

  it("never lets a generated value out of a secret wrapper, in its outputs or in a consumer's inputs", async () => {
    const run = await runProgram({
      stack: "test",
      config: CONFIG,
      program: () => {
        const keys = new GeneratedKeys("keys", { keys: KEYS, now: at(100 * DAY) });
        new BareResource("consumer", { env: keys.values, joined: keys.values["jwt-secret"].apply((v) => `Bearer ${v}`) });
      },
    });
    // Mocks do not apply additionalSecretOutputs: the wrapping seen here is the component's own pulumi.secret.
    const consumer = findResource(run, "test:index:Bare", "consumer");
    assert.ok(isSecret(consumer.inputs.joined));
    assert.match(String(unwrapSecrets(consumer.inputs.joined)), /^Bearer FAKE-GENERATED-keys-jwt-secret-b-/);
    for (const r of run.resources) assert.deepEqual(plaintextOccurrences(r.inputs, "FAKE-GENERATED-"), [], `${r.type} ${r.name}`);
    for (const [urn, outputs] of run.componentOutputs) assert.deepEqual(plaintextOccurrences(outputs, "FAKE-GENERATED-"), [], urn);
    // The needle does occur, wrapped: the check above is not vacuous.
    assert.ok(JSON.stringify(consumer.inputs).includes("FAKE-GENERATED-"));
  });

  const jwt = KEYS[0];
  for (const [label, keys, message] of [
    ["length 16", [{ ...jwt, length: 16 }], '[keys] "jwt-secret": length must be a whole number of at least 32 characters; got 16.'],
    ["length 31.5", [{ ...jwt, length: 31.5 }], '[keys] "jwt-secret": length must be a whole number of at least 32 characters; got 31.5.'],
    ["rotationDays 0", [{ ...jwt, rotationDays: 0 }], '[keys] "jwt-secret": rotationDays must be a whole number of days, at least 1; got 0.'],
    ["a key that is not kebab-case", [{ ...jwt, key: "JWT_SECRET" }], '[keys] key "JWT_SECRET" must be kebab-case, such as "jwt-secret".'],
    ["a duplicate key", [jwt, { ...jwt, keepPrevious: false }], '[keys] "jwt-secret" is produced twice; give each key a unique name.'],
    [
      "a key named like another's -previous",
      [jwt, { ...jwt, key: "jwt-secret-previous", keepPrevious: false }],
      '[keys] "jwt-secret-previous" is produced twice; give each key a unique name.',
    ],
  ] as const) {
    it(`refuses ${label} with an exact message, registering no password`, async () => {
      const { run, error } = await tryRunProgram({ stack: "test", config: CONFIG, program: () => new GeneratedKeys("keys", { keys: [...keys], now: at(0) }) });
      assert.ok(error instanceof pulumi.ResourceError);
      assert.equal(error.message, message);
      assert.equal(resourcesOfType(run, PASSWORD).length, 0);
    });
  }

  it("records each key's rotation period as the component's inputs, for policy packs", async () => {
    const { run } = await runAt(at(0));
    assert.deepEqual(findResource(run, "veza:secrets:GeneratedKeys", "keys").inputs, {
      rotationDays: Object.fromEntries(KEYS.map((k) => [k.key, k.rotationDays])),
    });
  });

  it("accepts the limits: a key of exactly MIN_KEY_LENGTH characters, a rotation of 1 day", async () => {
    assert.equal(MIN_KEY_LENGTH, 32);
    const { error } = await tryRunProgram({
      stack: "test",
      config: CONFIG,
      program: () => new GeneratedKeys("keys", { keys: [{ ...jwt, length: 32, rotationDays: 1 }], now: at(0) }),
    });
    assert.equal(error, undefined);
  });

  it("computes periods only for a whole number of days, at least 1", () => {
    assert.equal(rotationPeriod(at(3 * DAY), DEFAULT_EPOCH, 1), 3);
    for (const bad of [0, 1.5, -1]) {
      const message = `periodDays must be a whole number of at least 1; got ${bad}`;
      assert.throws(() => rotationPeriod(at(0), DEFAULT_EPOCH, bad), { message });
      assert.throws(() => rotationSlots(at(0), DEFAULT_EPOCH, bad), { message });
    }
  });

  it("refuses an invalid epoch", async () => {
    await assert.rejects(
      runProgram({ stack: "test", config: CONFIG, program: () => new GeneratedKeys("keys", { keys: KEYS, now: at(0), epoch: new Date("not a date") }) }),
      (e: Error) => e.message.includes('[epoch] must be a valid Date such as new Date("2026-01-01T00:00:00Z"), or be left out.'),
    );
  });

  it("refuses an invalid now", async () => {
    await assert.rejects(
      runProgram({ stack: "test", config: CONFIG, program: () => new GeneratedKeys("keys", { keys: KEYS, now: new Date("not a date") }) }),
      (e: Error) => e.message.includes("[now] must be a valid Date; pass `new Date()` from the stack."),
    );
  });
});
