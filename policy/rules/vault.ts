/** Policies: Vault: policies confined to the environment, audit logging, auto-unseal, no dev mode. */
import { resourcePolicy, stackPolicy } from "../define";
import { type Plain, at, isObject, str } from "../props";
import { T, isVaultRelease } from "../resources";
import { type AclRule, PolicyReadError, aclRuleProblems, parseVaultPolicy, readOnlyPolicyProblems } from "../vault-acl";

/**
 * The rules of a Vault policy resource's document, or `undefined` after reporting why there are
 * none to judge: a document the pack cannot read fully is a violation, never a pass, since Vault's
 * parser could read a grant the pack does not see (vault-acl.ts).
 */
function readPolicyRules(policyName: string, document: Plain, report: (message: string) => void): AclRule[] | undefined {
  if (typeof document !== "string") {
    report(`Vault policy "${policyName}" has no policy document.`);
    return undefined;
  }
  try {
    return parseVaultPolicy(document);
  } catch (e) {
    if (!(e instanceof PolicyReadError)) throw e;
    report(
      `Vault policy "${policyName}" cannot be checked: it ${e.message}. The pack reads only HCL blocks path "<path>" { capabilities = [...] } (with allowed_parameters, denied_parameters), as the program's generators write them; write it that way.`,
    );
    return undefined;
  }
}

export const vaultPolicyEnvironmentScope = stackPolicy(
  {
    name: "vault-policy-environment-scope",
    description:
      "Vault ACL policies grant only this environment's veza/<environment>/ paths: no sudo, no wildcard beyond the environment, no other environment's path; a document the pack cannot read fully is refused.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env === undefined) return; // stack-environment-label reports why.
    for (const r of resources.filter((x) => x.type === T.vaultPolicy)) {
      const policyName = str(at(r.props, "name")) ?? r.name;
      const document = at(r.props, "policy");
      if (f.unknown(document)) continue;
      const rules = readPolicyRules(policyName, document, (m) => f.violation(m, r.urn));
      for (const rule of rules ?? []) {
        for (const problem of aclRuleProblems(rule, env)) {
          f.violation(
            `Vault policy "${policyName}" ${problem}: ${env} policies may grant only veza/${env}/ paths (and this Vault's own engines), without sudo.`,
            r.urn,
          );
        }
      }
    }
  },
);

export const vaultAuditDevice = stackPolicy(
  {
    name: "vault-audit-device",
    description:
      "Audit devices are the operator's: a stack whose Vault provider logs in as the deployer (jwt, or ESC's token) registers no vault.Audit (it would need sudo on sys/audit, and could switch the trail off); a dev-mode Vault (root token) enables one.",
    enforcementLevel: "mandatory",
  },
  (resources, f) => {
    const audits = resources.filter((r) => r.type === T.vaultAudit);
    const providers = resources.filter((r) => r.type === "pulumi:providers:vault");
    // A stored token is dev mode's root token or an operator's; anything else is the deployer's login.
    const deployer = providers.filter((p) => !f.unknown(at(p.props, "token")) && at(p.props, "token") === undefined);
    if (deployer.length > 0)
      for (const a of audits)
        f.violation(
          `Vault audit device "${str(at(a.props, "path")) ?? a.name}" is managed by the deployer's login: its policy would need sudo on sys/audit, and a stolen token could switch the audit trail off first. Enable audit devices in the operator's bootstrap (npm run vault-bootstrap) instead.`,
          a.urn,
        );
    const dev = resources.some((r) => isVaultRelease(r.type, r.props) && at(r.props, "values", "server", "dev", "enabled") === true);
    if (dev && audits.length === 0)
      f.violation(
        'This stack runs Vault in dev mode but enables no audit device: add a vault.Audit (type "file", file_path "stdout") so every secret access is logged.',
      );
  },
);

/** Non-Shamir `seal "<type>"` stanzas in a Vault server config (HCL string, or its JSON/object form). */
export function sealTypes(config: Plain): string[] {
  if (typeof config === "string") {
    const types: string[] = [];
    for (const line of config.split(/\r?\n/)) {
      const m = /^\s*seal\s+"([A-Za-z0-9_-]+)"\s*\{/.exec(line);
      if (m) types.push(m[1]);
    }
    return types.filter((t) => t !== "shamir");
  }
  if (isObject(config) && isObject(config.seal)) return Object.keys(config.seal).filter((t) => t !== "shamir");
  return [];
}

export const vaultAutoUnsealInProduction = stackPolicy(
  {
    name: "vault-auto-unseal-in-production",
    description:
      "In production, the Vault release configures cloud-KMS auto-unseal (a seal stanza other than shamir), so restarted pods unseal without key holders.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env !== "production") return;
    for (const r of resources.filter((x) => isVaultRelease(x.type, x.props))) {
      const server = at(r.props, "values", "server");
      if (f.unknown(server)) continue;
      if (at(server, "dev", "enabled") === true) continue; // vault-dev-mode-development-only reports it.
      const configs = [at(server, "ha", "raft", "config"), at(server, "ha", "config"), at(server, "standalone", "config")];
      if (configs.some((c) => f.unknown(c))) continue;
      if (configs.every((c) => sealTypes(c).length === 0)) {
        f.violation(
          `Vault release "${r.name}" has no auto-unseal seal stanza in production: configure cloud-KMS auto-unseal (seal "awskms", "gcpckms" or "azurekeyvault") so a restarted pod unseals without key holders.`,
          r.urn,
        );
      }
    }
  },
);

export const vaultDevModeDevelopmentOnly = stackPolicy(
  {
    name: "vault-dev-mode-development-only",
    description: "Vault runs in dev mode (in memory, unsealed, root token) only in development.",
    enforcementLevel: "mandatory",
  },
  (resources, f, env) => {
    if (env === undefined || env === "development") return;
    for (const r of resources.filter((x) => isVaultRelease(x.type, x.props))) {
      const dev = at(r.props, "values", "server", "dev", "enabled");
      if (f.unknown(dev)) continue;
      if (dev === true)
        f.violation(
          `Vault release "${r.name}" runs in dev mode (in memory, unsealed, root token) in ${env}: dev mode is for development only; use ha mode.`,
          r.urn,
        );
    }
  },
);

export const vaultPolicyReadOnly = resourcePolicy(
  {
    name: "vault-policy-read-only",
    description:
      "Vault policies the program writes (applications', ESO's, previews') only read their own paths: no capability on their own sys/policies/acl/<name> (self-promotion to root), no change to audit devices, no write to KV data, nothing beyond read and list. A document the pack cannot read fully (anything but the generators' HCL path blocks: JSON, heredocs, interpolation, other keys, a path named twice) is refused.",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.vaultPolicy,
  (r, f) => {
    const policyName = str(at(r.props, "name")) ?? r.name;
    const document = at(r.props, "policy");
    if (f.unknown(document)) return;
    // Reported here too, not only by vault-policy-environment-scope: a stack policy runs after
    // `pulumi up` applied the change, this one before.
    const rules = readPolicyRules(policyName, document, (m) => f.violation(m));
    for (const rule of rules ?? []) {
      for (const problem of readOnlyPolicyProblems(policyName, rule)) {
        f.violation(`Vault policy "${policyName}" ${problem}. The program's own policy is written by the bootstrap, never by the program.`);
      }
    }
  },
);

export const vaultAuditNoRawLog = resourcePolicy(
  {
    name: "vault-audit-hmac-values",
    description: "Vault audit devices keep secret values HMAC'd: no log_raw (it writes every secret, token and password in clear to the audit log).",
    enforcementLevel: "mandatory",
  },
  (type) => type === T.vaultAudit,
  (r, f) => {
    const raw = at(r.props, "options", "log_raw");
    if (f.unknown(raw)) return;
    if (raw === true || (typeof raw === "string" && raw.toLowerCase() === "true")) {
      f.violation(
        `Vault audit device "${str(at(r.props, "path")) ?? r.name}" sets log_raw: every secret, token and password would be written in clear to the audit log; remove it.`,
      );
    }
  },
);
