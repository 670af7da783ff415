/** Every rule file, for policies.ts. */
export * from "./plaintext";
export * from "./eso";
export * from "./rbac";
export * from "./vault";
export * from "./cloud";
export * from "./supply-chain";
export * from "./keys";
export * from "./production";
export * from "./hardening";
