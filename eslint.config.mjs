// Flat config: typescript-eslint's recommended rules, no `any` in our code (no type information:
// see the note below).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "**/node_modules/**", ".bench/**", ".e2e/**", ".stryker-tmp/**", "reports/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The two type-aware rules (a promise nobody awaits loses its error: the engine never hears of
  // it) run in oxlint's tsgolint (.oxlintrc.json, `npm run lint`): typescript-eslint's type-aware
  // parse built the whole program with the SDKs' declarations in this process (1.6 GB, 14 s);
  // tsgolint does the same two rules in 0.7 GB and 2 s, and ESLint without types takes 0.4 GB.
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
