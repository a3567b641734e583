// Profile files: an EnvProfile as YAML, written by hand or drafted by `evolver env profile` for the user to review.
import { readFileSync } from "node:fs";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { EvolverError } from "../../core/errors.js";
import { EnvProfile } from "../../env/index.js";

export function loadProfile(path: string): EnvProfile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new EvolverError("PROFILE_NOT_FOUND", `cannot read profile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new EvolverError("PROFILE_INVALID", `${path} is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = EnvProfile.safeParse(raw);
  if (!parsed.success) {
    throw new EvolverError("PROFILE_INVALID", `${path}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}

export function profileToYaml(profile: EnvProfile): string {
  return stringifyYaml(profile, { lineWidth: 120 });
}
