// The user's own environment, from a module a config names (`env: { type: module, path: ./my-env.mjs }`). The path
// comes from the user's own config or command line, never from a request: the env service serves registered types
// only. A relative path is read from the working directory, as every other path of a config is.
//
// The module's default export (or its export named `createEnvironment`) makes the environment from the config's
// `env.options`: a function `(options) => Environment` (may be async) or a class `new (options) => Environment`.
// docs/custom-environment.md has a complete example.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { EvolverError, describeError } from "../core/errors.js";
import { createEnvironment } from "./registry.js";
import type { Environment } from "./types.js";

/** The type name a config gives an environment of its own. */
export const MODULE_ENVIRONMENT = "module";

const required = ["listTasks", "profile", "create"] as const;

/** A config's or a command's environment: a registered type by name, or (type `module`) the user's own from `path`. */
export async function openEnvironment(spec: { type: string; path?: string; options?: Record<string, unknown> }): Promise<Environment> {
  if (spec.type !== MODULE_ENVIRONMENT) return createEnvironment(spec.type, spec.options ?? {});
  if (!spec.path) throw new EvolverError("ENV_BAD_OPTIONS", "an environment of type module needs the path of its module");
  return loadEnvironmentModule(spec.path, spec.options ?? {});
}

export async function loadEnvironmentModule(path: string, options: Record<string, unknown> = {}): Promise<Environment> {
  const file = resolve(path);
  if (!existsSync(file)) {
    throw new EvolverError("ENV_MODULE_NOT_FOUND", `no environment module at ${file} (env.path is read from the working directory)`, { details: { path, file } });
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new EvolverError("ENV_MODULE_LOAD", `cannot load the environment module ${file}: ${describeError(error)}`, { details: { file }, cause: error });
  }
  const make = exports.default ?? exports.createEnvironment;
  if (typeof make !== "function") {
    throw new EvolverError(
      "ENV_MODULE_INVALID",
      `${file} must export a function or class that makes the environment, as its default export or as createEnvironment`,
      { details: { file, exports: Object.keys(exports) } },
    );
  }
  let environment: unknown;
  try {
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(make));
    environment = isClass ? new (make as new (o: unknown) => unknown)(options) : await (make as (o: unknown) => unknown)(options);
  } catch (error) {
    // Its own option checks speak for themselves; the file is named so the user knows whose message it is.
    throw new EvolverError("ENV_BAD_OPTIONS", `the environment module ${file} refused its options: ${describeError(error)}`, { details: { file }, cause: error });
  }
  const missing = missingMembers(environment);
  if (missing.length > 0) {
    throw new EvolverError("ENV_MODULE_INVALID", `the environment made by ${file} lacks ${missing.join(", ")} (see docs/custom-environment.md)`, {
      details: { file, missing },
    });
  }
  return withTypedErrors(environment as Environment, file);
}

/** The module's own errors become EvolverErrors (ENV_MODULE_ERROR) that name its file; its instances are its own. */
function withTypedErrors(environment: Environment, file: string): Environment {
  const wrap = <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await method.apply(environment, args);
      } catch (error) {
        if (EvolverError.isInstance(error)) throw error;
        throw new EvolverError("ENV_MODULE_ERROR", `environment ${environment.name} (${file}): ${describeError(error)}`, { details: { file }, cause: error });
      }
    };
  const typed: Environment = {
    name: environment.name,
    ...(environment.actionFormat === undefined ? {} : { actionFormat: environment.actionFormat }),
    listTasks: wrap(environment.listTasks),
    profile: wrap(environment.profile),
    create: wrap(environment.create),
  };
  if (environment.capabilities) typed.capabilities = wrap(environment.capabilities);
  if (environment.referenceSolution) typed.referenceSolution = wrap(environment.referenceSolution);
  if (environment.close) typed.close = wrap(environment.close);
  return typed;
}

function missingMembers(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return ["everything: it is not an object", ...required];
  const record = value as Record<string, unknown>;
  const missing: string[] = [];
  if (typeof record.name !== "string" || record.name === "") missing.push("name (a non-empty string)");
  for (const method of required) if (typeof record[method] !== "function") missing.push(`${method}()`);
  return missing;
}
