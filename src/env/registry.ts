// The table of environment types. A config or CLI name picks one; an implementation is never found by
// importing a module named by a string (AgentEvolver's env service does that; we do not).
import { EvolverError } from "../core/errors.js";
import type { Environment } from "./types.js";

export type EnvironmentFactory = (options: Record<string, unknown>) => Environment | Promise<Environment>;

const factories = new Map<string, EnvironmentFactory>();

export function registerEnvironment(name: string, factory: EnvironmentFactory): void {
  factories.set(name, factory);
}

export function knownEnvironments(): string[] {
  return [...factories.keys()].sort();
}

export async function createEnvironment(name: string, options: Record<string, unknown> = {}): Promise<Environment> {
  const factory = factories.get(name);
  if (!factory) {
    throw new EvolverError("ENV_UNKNOWN", `unknown environment type '${name}'; known: ${knownEnvironments().join(", ") || "(none)"}`, {
      details: { name, known: knownEnvironments() },
    });
  }
  return factory(options);
}
