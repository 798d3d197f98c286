/**
 * The one place the benchmark reaches lsmdoc: the built root package (`npm run build` -> dist/),
 * public entry only. bench/ is its own npm project, so the package cannot import itself by name.
 */
export { open, z } from "../../dist/src/index.js";
export type { Collection, Database } from "../../dist/src/index.js";
