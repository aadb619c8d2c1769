// Lint rules: type-checked TypeScript rules plus the import-direction zones of CONVENTIONS.md.
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

const src = (p) => `./src/${p}`;
const everythingBut = (...allowed) =>
  ["kit", "errors", "observability", "resources", "resiliency", "blocks", "components", "channels", "api", "runtime", "cli"]
    .filter((d) => !allowed.includes(d))
    .map((d) => src(`${d}/**`))
    .concat(allowed.includes("runtime") ? [] : [src("main.{ts,js}")]); // a glob: the rule rejects zones mixing globs and plain paths

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/results/**", "eslint.config.js", "bin/**", "scripts/*.mjs", "examples/**/node_modules/**"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })] },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite", "before", "after", "beforeEach", "afterEach"] }] },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "import-x/no-cycle": "error",
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            { target: src("kit/**"), from: everythingBut("kit"), message: "kit/ imports node built-ins only" },
            { target: src("errors/**"), from: everythingBut("kit", "errors", "observability") },
            { target: src("observability/**"), from: everythingBut("kit", "errors", "observability") },
            { target: src("resources/**"), from: everythingBut("kit", "errors", "observability", "resources") },
            { target: src("resiliency/**"), from: everythingBut("kit", "errors", "observability", "resiliency") },
            { target: src("blocks/*/contract.ts"), from: everythingBut("kit", "blocks"), message: "a contract depends on kit/ only" },
            { target: src("channels/contract.ts"), from: everythingBut("kit", "channels") },
            {
              target: src("components/**"),
              from: everythingBut("kit", "observability", "components", "blocks"),
              message: "a component sees its block contract, components/shared, kit/ and observability/ only",
            },
            { target: src("components/**"), from: src("blocks/*/!(contract).ts"), message: "a component sees only its block's contract.ts" },
            { target: src("components/!(registry).ts"), from: src("components/!(shared)/**"), message: "components never import each other" },
            { target: src("blocks/**"), from: everythingBut("kit", "errors", "observability", "resiliency", "blocks", "channels") },
            { target: src("blocks/**"), from: src("channels/!(contract).ts") },
            { target: src("api/**"), from: everythingBut("kit", "errors", "observability", "blocks", "api") },
          ],
        },
      ],
    },
  },
  {
    files: ["test/**", "e2e/**", "bench/**", "src/**/*.test.ts", "examples/**", "scripts/**"],
    rules: {
      "import-x/no-restricted-paths": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
    },
  },
  {
    files: ["src/**"],
    ignores: ["src/cli/**", "src/main.ts"],
    rules: { "no-console": "error" },
  },
);
