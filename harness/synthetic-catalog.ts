/**
 * A catalog of n synthetic keys on top of the real one, for the benchmark's linear-growth check.
 */
import { CATALOG, SERVICES, type SecretSpec } from "../components/catalog";

/**
 * The Veza catalog plus generated keys up to `n` keys in all, spread over the services:
 * a stand-in for a much larger platform, for the benchmark's scaling figure.
 */
export function syntheticCatalog(n: number): SecretSpec[] {
  const extra: SecretSpec[] = [];
  for (let i = CATALOG.length; i < n; i++) {
    extra.push({
      key: `synthetic-key-${i}`,
      description: `Synthetic key ${i}`,
      services: [SERVICES[i % SERVICES.length]],
      source: { kind: "generated", length: 32, minLength: 32, rotationDays: 90, keepPrevious: false },
    });
  }
  return [...CATALOG, ...extra];
}
