// The table of environment types. A config or CLI name picks one; an implementation is never found by
// importing a module named by a string (AgentEvolver's env service does that; we do not). The one way to bring an
// environment of one's own is a module a config names (module-environment.ts), never a request.
import type { z } from "zod";
import { EvolverError } from "../core/errors.js";
import type { Environment } from "./types.js";

export type EnvironmentFactory = (options: Record<string, unknown>) => Environment | Promise<Environment>;

interface EnvironmentType {
  factory: EnvironmentFactory;
  /** The options the type takes, so a config's options are checked before anything runs. */
  options?: z.ZodType;
}

const types = new Map<string, EnvironmentType>();

export function registerEnvironment(name: string, factory: EnvironmentFactory, options?: z.ZodType): void {
  types.set(name, { factory, options });
}

export function knownEnvironments(): string[] {
  return [...types.keys()].sort();
}

/** The options schema of a registered type; undefined for an unknown type or one registered without a schema. */
export function environmentOptionsSchema(name: string): z.ZodType | undefined {
  return types.get(name)?.options;
}

function unknownEnvironmentError(name: string): EvolverError {
  return new EvolverError("ENV_UNKNOWN", `unknown environment type '${name}'; known: ${knownEnvironments().join(", ") || "(none)"}`, {
    details: { name, known: knownEnvironments() },
  });
}

export async function createEnvironment(name: string, options: Record<string, unknown> = {}): Promise<Environment> {
  const type = types.get(name);
  if (!type) throw unknownEnvironmentError(name);
  return type.factory(options);
}
