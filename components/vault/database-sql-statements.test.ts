/**
 * The SQL Vault runs for Veza (components/vault/database-sql.ts), without a server: the exact
 * statements per Vault operation, one statement per element after Vault's splitting, Vault's
 * template rendering, and the validation of identifiers.
 */
import * as assert from "node:assert/strict";
import { vaultKeepsWhole, vaultQueries, type VaultOperation } from "../../test/vault-sql";
import {
  bootstrapSql,
  creationStatements,
  renderVaultTemplate,
  renewStatements,
  revocationStatements,
  rootRotationStatements,
  rotationStatements,
  validateDatabaseSqlOptions,
  type VaultTemplateValues,
} from "./database-sql";
import { OPTS } from "./database-sql-fixtures";

describe("database-sql: statements, templates, validation", () => {
  it("returns the exact statements for each Vault operation", () => {
    assert.deepEqual(creationStatements(OPTS), [
      `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;`,
      `GRANT "veza_app_group" TO "{{name}}";`,
    ]);
    assert.deepEqual(revocationStatements(OPTS), [
      `SELECT pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity WHERE usename = '{{name}}' AND pid <> pg_catalog.pg_backend_pid();`,
      `DO $$\nBEGIN\n  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{{name}}') THEN\n    REVOKE "veza_app_group" FROM "{{name}}";\n  END IF;\nEND\n$$;`,
      `DROP ROLE IF EXISTS "{{name}}";`,
    ]);
    assert.deepEqual(renewStatements(OPTS), [`ALTER ROLE "{{name}}" VALID UNTIL '{{expiration}}';`]);
    assert.deepEqual(rotationStatements(OPTS), [`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`]);
    assert.deepEqual(rootRotationStatements(), [`ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`]);
  });

  it("gives Vault exactly one SQL statement per element, after its splitting on ';'", () => {
    const cases: [VaultOperation, string[]][] = [
      ["creation", creationStatements(OPTS)],
      ["revocation", revocationStatements(OPTS)],
      ["renew", renewStatements(OPTS)],
      ["rotation", rotationStatements(OPTS)],
      ["rotation", rootRotationStatements()],
    ];
    for (const [operation, statements] of cases) {
      for (const statement of statements) {
        const expected = vaultKeepsWhole(statement) ? statement : statement.replace(/;$/, "");
        assert.deepEqual(vaultQueries(statement, operation), [expected], statement);
      }
    }
    // The DO block is the only statement that relies on Vault keeping END-statements whole.
    assert.equal(revocationStatements(OPTS).filter(vaultKeepsWhole).length, 1);
  });

  const renderCases: { title: string; statement: string; values: VaultTemplateValues; expected: string }[] = [
    {
      title: "dynamic user creation",
      statement: `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}' INHERIT;`,
      values: { name: "v-token-veza-rol-AbC-1700000000", password: "A1a-secret", expiration: "2026-01-02 03:04:05+0000" },
      expected: `CREATE ROLE "v-token-veza-rol-AbC-1700000000" WITH LOGIN PASSWORD 'A1a-secret' VALID UNTIL '2026-01-02 03:04:05+0000' INHERIT;`,
    },
    {
      title: "root rotation uses {{username}}",
      statement: `ALTER ROLE "{{username}}" WITH PASSWORD '{{password}}';`,
      values: { username: "vault_admin", password: "p" },
      expected: `ALTER ROLE "vault_admin" WITH PASSWORD 'p';`,
    },
    {
      title: "every occurrence is replaced",
      statement: `{{name}}/{{name}}/{{name}}`,
      values: { name: "u" },
      expected: `u/u/u`,
    },
    {
      title: "plain text: no quoting, '$' patterns kept, values not scanned again",
      statement: `'{{password}}' "{{name}}"`,
      values: { name: `a"b`, password: `$& $1 {{name}}` },
      expected: `'$& $1 {{name}}' "a"b"`,
    },
    {
      title: "no template variables: unchanged, unused values ignored",
      statement: `SELECT 1;`,
      values: { name: "unused", expiration: "unused" },
      expected: `SELECT 1;`,
    },
    {
      title: "an empty value is a value",
      statement: `'{{password}}'`,
      values: { password: "" },
      expected: `''`,
    },
  ];
  for (const c of renderCases) {
    it(`renderVaultTemplate: ${c.title}`, () => assert.equal(renderVaultTemplate(c.statement, c.values), c.expected));
  }

  it("renderVaultTemplate throws on a template variable without a value", () => {
    assert.throws(() => renderVaultTemplate(`ALTER ROLE "{{name}}" WITH PASSWORD '{{password}}';`, { name: "u" }), {
      message: "renderVaultTemplate: no value for template variable {{password}}",
    });
    // Vault would leave these untouched (and PostgreSQL would then get them literally).
    assert.throws(() => renderVaultTemplate(`"{{ name }}"`, { name: "u" }), { message: "renderVaultTemplate: no value for template variable {{ name }}" });
    assert.throws(() => renderVaultTemplate(`{{foo}}`, { name: "u" }), { message: "renderVaultTemplate: no value for template variable {{foo}}" });
  });

  it("rejects identifiers that are not plain lowercase names, naming the field and the value", () => {
    const pattern = "^[a-z_][a-z0-9_]{0,62}$";
    assert.throws(() => creationStatements({ ...OPTS, appSchema: "Veza" }), {
      message: `appSchema must be a lowercase PostgreSQL identifier matching ${pattern}; got "Veza"`,
    });
    assert.throws(() => revocationStatements({ ...OPTS, appGroupRole: `x"; DROP ROLE postgres; --` }), {
      message: `appGroupRole must be a lowercase PostgreSQL identifier matching ${pattern}; got "x\\"; DROP ROLE postgres; --"`,
    });
    assert.throws(() => renewStatements({ ...OPTS, staticUsername: "a".repeat(64) }), {
      message: `staticUsername must be a lowercase PostgreSQL identifier matching ${pattern}; got "${"a".repeat(64)}"`,
    });
    assert.throws(() => rotationStatements({ ...OPTS, database: "" }), {
      message: `database must be a lowercase PostgreSQL identifier matching ${pattern}; got ""`,
    });
    assert.throws(() => bootstrapSql({ ...OPTS, vaultAdminUser: "vault-admin" }), {
      message: `vaultAdminUser must be a lowercase PostgreSQL identifier matching ${pattern}; got "vault-admin"`,
    });
    assert.throws(() => validateDatabaseSqlOptions({ ...OPTS, appGroupRole: "pg_app" }), {
      message: `appGroupRole must not start with "pg_" (reserved by PostgreSQL); got "pg_app"`,
    });
    assert.throws(() => validateDatabaseSqlOptions({ ...OPTS, appSchema: "public" }), { message: `appSchema must be a dedicated schema, not "public"` });
    assert.throws(() => validateDatabaseSqlOptions({ ...OPTS, staticUsername: "veza_app_group" }), {
      message: `appGroupRole and staticUsername must be different roles; both are "veza_app_group"`,
    });
    assert.throws(() => bootstrapSql({ ...OPTS, vaultAdminUser: "veza_app" }), {
      message: `vaultAdminUser must differ from appGroupRole and staticUsername; got "veza_app"`,
    });
    assert.doesNotThrow(() => validateDatabaseSqlOptions({ ...OPTS, appSchema: `_${"a".repeat(62)}` }));
  });

  it("rejects the other shared schema, an admin that is the group role, and a name that is not a string", () => {
    assert.throws(() => validateDatabaseSqlOptions({ ...OPTS, appSchema: "information_schema" }), {
      message: `appSchema must be a dedicated schema, not "information_schema"`,
    });
    assert.throws(() => bootstrapSql({ ...OPTS, vaultAdminUser: OPTS.appGroupRole }), {
      message: `vaultAdminUser must differ from appGroupRole and staticUsername; got "${OPTS.appGroupRole}"`,
    });
    // From untyped config: String(undefined) would match the pattern.
    const missing = { ...OPTS, appSchema: undefined } as unknown as typeof OPTS;
    assert.throws(() => validateDatabaseSqlOptions(missing), {
      message: "appSchema must be a lowercase PostgreSQL identifier matching ^[a-z_][a-z0-9_]{0,62}$; got undefined",
    });
  });

  it("writes the bootstrap for a person to read: each role's DO block line by line", () => {
    const lines = bootstrapSql({ ...OPTS, vaultAdminUser: "vault_admin" }).split("\n");
    for (const role of [OPTS.appGroupRole, OPTS.staticUsername, "vault_admin"]) {
      const at = lines.indexOf(`  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '${role}') THEN`);
      assert.ok(at > 1, role);
      assert.deepEqual(lines.slice(at - 2, at + 5), ["DO $$", "BEGIN", lines[at], `    CREATE ROLE "${role}";`, "  END IF;", "END", "$$;"], role);
    }
  });
});
