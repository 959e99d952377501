// ESLint (flat config) with typescript-eslint; layout is Prettier's (.prettierrc.json).
// `npm run lint` runs both and fails on any warning; `npm run format` writes Prettier's layout.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["dist/", "node_modules/", "coverage/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      // Type information for the promise rules below: tsconfig.json's program, via TypeScript 6's API.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // A promise nobody awaits loses its error, and with it maybe a mail: these need types.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-console": "error",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], extends: [tseslint.configs.disableTypeChecked] },
  // Mail decoding works on control bytes by design (ESC of ISO-2022-JP, NUL in TNEF and file names).
  { files: ["src/mail/**/*.ts"], rules: { "no-control-regex": "off" } },
  // Tests read the CLI's JSON, whose shape they then assert; chai's `expect(x).to.be.true` is an expression.
  {
    files: ["test/**/*.ts"],
    rules: { "no-console": "off", "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-unused-expressions": "off" },
  },
);
