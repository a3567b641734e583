// Module hooks for a child process: appends every module URL the process resolves to $EVOLVER_IMPORT_LOG, so a test
// can see what a command loaded. Registered with `--import ./record-imports.mjs` (it registers itself).
import { appendFileSync } from "node:fs";
import { register } from "node:module";

if (process.env.EVOLVER_IMPORT_LOG_HOOKS !== "1") {
  process.env.EVOLVER_IMPORT_LOG_HOOKS = "1";
  register(import.meta.url);
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.EVOLVER_IMPORT_LOG, `${result.url}\n`);
  return result;
}
