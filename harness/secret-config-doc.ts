/**
 * The secret config keys as docs/configuration.md lists them: the catalog's supplied ones, its
 * database key, and the keys outside the catalog (`SECRET_KEYS`), each with when a stack needs it.
 * Generated (`npm run readme`), so adding a secret to the catalog changes the list with it.
 */
import { CATALOG, type SecretSpec } from "../components/catalog";
import { SECRET_KEYS } from "../stacks/config";

/** When a stack needs each key outside the catalog; a new one in `SECRET_KEYS` fails the type-check here until it is described. */
const WHEN: Record<(typeof SECRET_KEYS)[number], string> = {
  vaultDevRootToken: "in development",
  vaultToken: "only with `vault.login.method: token` (refused next to jwt)",
  databaseAdminPassword: "with `database`",
};

const code = (keys: string[]): string => keys.map((k) => `\`${k}\``).join(", ");

/** Words wrapped at `width` columns, as the hand-written Markdown around the block is. */
function wrap(text: string, width = 92): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join("\n");
}

/** docs/configuration.md's paragraph on the secret config keys. */
export function secretConfigList(catalog: readonly SecretSpec[] = CATALOG): string {
  const supplied = catalog.flatMap((s) => (s.source.kind === "supplied" ? [s.source.configKey] : []));
  const database = catalog.flatMap((s) => (s.source.kind === "database" ? [s.source.configKey] : []));
  const parts = [
    ...(supplied.length ? [`${code(supplied)} always`] : []),
    ...(database.length ? [`${code(database)} where the stack has no \`database\``] : []),
    ...SECRET_KEYS.map((k) => `\`${k}\` ${WHEN[k]}`),
  ];
  return wrap(`Secrets, each set with \`pulumi config set --secret\` (a plain-text value is refused): ${parts.join("; ")}.`);
}
