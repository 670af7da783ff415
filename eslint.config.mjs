// Flat config: typescript-eslint's recommended rules, no `any` in our code.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "**/node_modules/**", ".bench/**", ".e2e/**", ".stryker-tmp/**", "reports/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    // One program, the root tsconfig's (it includes policy/ and deployments/, as `tsc` checks
    // them): the project service gave those folders programs of their own from their own
    // tsconfig.json, three programs with the SDKs' declarations in each (2.6 GB, 35 s; one: 1.6 GB, 24 s).
    languageOptions: { parserOptions: { project: ["./tsconfig.json"], tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Type-aware: a promise nobody awaits loses its error (the engine never hears of it).
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
    },
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
      // Start-up time: import the big SDKs by submodule (docs/testing.md, "Performance").
      "no-restricted-imports": [
        "error",
        {
          paths: ["@pulumi/aws", "@pulumi/gcp", "@pulumi/azure-native", "@pulumi/vault", "@pulumi/kubernetes"].map((name) => ({
            name,
            message: `Import ${name} by submodule (e.g. ${name}/<module>): the package root loads every service.`,
          })),
        },
      ],
    },
  },
  // Plain CommonJS preloads (harness/report-on-exit.js) run in Node before any loader.
  {
    files: ["**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", process: "readonly", module: "writable", __dirname: "readonly" } },
  },
);
