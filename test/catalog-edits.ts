/**
 * Support for the one-line tests (test/one-line.test.ts in memory, test/one-line-copy.test.ts on
 * files): names the catalog does not use yet, and the config key the recipe gives a new key.
 */

/** `base`, or `base-2`, `base-3`, …: the first name `taken` does not claim. */
export function unusedName(base: string, taken: (name: string) => boolean): string {
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!taken(name)) return name;
  }
}

/** A catalog key's config key, as the README's recipe writes it (`sentry-dsn` → `sentryDsn`). */
export const camelCase = (key: string): string => key.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
