// The ablation's configurations: AgentEvolver's claim is an ordering (its Tables 1, 4 and 5), plain GRPO below
// GRPO with any one mechanism below all three. Each configuration is the same base config with each mechanism's
// `enabled` switch set, nothing else changed, so a difference between two rows is the mechanism's doing.
//
// A mechanism is available when its config section is in the evolve schema (`questioning:`, `navigating:`,
// `attribution:`); a configuration that needs one that is not is reported as not available, never run without it.
import { EvolveConfig } from "../recipe/index.js";

export type Mechanism = "questioning" | "navigating" | "attributing";
export const MECHANISMS: readonly Mechanism[] = ["questioning", "navigating", "attributing"];

/** The config section that switches each mechanism on and off. */
const SECTION: Record<Mechanism, string> = { questioning: "questioning", navigating: "navigating", attributing: "attribution" };

export interface AblationConfiguration {
  /** Short stable name: part of every run's name, accepted by --only. */
  name: string;
  label: string;
  mechanisms: readonly Mechanism[];
}

export const CONFIGURATIONS: readonly AblationConfiguration[] = [
  { name: "grpo", label: "GRPO", mechanisms: [] },
  { name: "questioning", label: "+questioning", mechanisms: ["questioning"] },
  { name: "navigating", label: "+navigating", mechanisms: ["navigating"] },
  { name: "attributing", label: "+attributing", mechanisms: ["attributing"] },
  { name: "all", label: "all three", mechanisms: ["questioning", "navigating", "attributing"] },
];

/** Whether this build has the mechanism: its section is a key of the evolve config schema. */
export function mechanismAvailable(mechanism: Mechanism): boolean {
  return SECTION[mechanism] in EvolveConfig.shape;
}

/** The mechanisms a configuration needs that this build does not have. */
export function missingMechanisms(configuration: AblationConfiguration): Mechanism[] {
  return configuration.mechanisms.filter((m) => !mechanismAvailable(m));
}

/** `key=value` overrides that switch every available mechanism on or off as the configuration says. */
export function configurationOverrides(configuration: AblationConfiguration): string[] {
  return MECHANISMS.filter(mechanismAvailable).map((m) => `${SECTION[m]}.enabled=${configuration.mechanisms.includes(m)}`);
}

/** The configurations named by --only (all when none), unknown names refused with the known ones. */
export function selectConfigurations(names: string[] | undefined): AblationConfiguration[] | { unknown: string[] } {
  if (!names || names.length === 0) return [...CONFIGURATIONS];
  const unknown = names.filter((n) => !CONFIGURATIONS.some((c) => c.name === n));
  if (unknown.length > 0) return { unknown };
  return CONFIGURATIONS.filter((c) => names.includes(c.name));
}
