// A synthetic task's request written from the profile's templates (hindsight synthesis; no LLM). Each operation's
// template names its arguments in braces; an operation without one is asked for by its description and arguments.
import type { EnvProfile, ReferenceAction } from "../../env/index.js";

function describeValue(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  return JSON.stringify(value);
}

/** One action as a sentence. */
export function describeAction(action: ReferenceAction, profile: EnvProfile): string {
  if (!("name" in action)) return `Answer "${action.text}".`;
  const operation = profile.entities.flatMap((e) => e.operations).find((op) => op.name === action.name);
  const args = action.arguments;
  if (operation?.template) {
    const filled = operation.template.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(args, name) ? describeValue(args[name]) : whole));
    // A template whose placeholders the call did not fill would ask for something else: fall back.
    if (!/\{\w+\}/.test(filled)) {
      const unused = Object.keys(args).filter((name) => !operation.template!.includes(`{${name}}`));
      return unused.length === 0 ? filled : `${filled.replace(/\.$/, "")} (${unused.map((n) => `${n} ${describeValue(args[n])}`).join(", ")}).`;
    }
  }
  const what = (operation?.description ?? action.name).split(/\n|(?<=\.)\s/)[0].replace(/\.$/, "");
  const given = Object.entries(args).map(([name, value]) => `${name} ${describeValue(value)}`);
  return `${what}${given.length > 0 ? ` (${given.join(", ")})` : ""}.`;
}

/** A turn's request: its actions in order. */
export function writeQuery(turn: ReferenceAction[], profile: EnvProfile): string {
  return turn.map((action, i) => (i === 0 ? describeAction(action, profile) : `Then: ${describeAction(action, profile)}`)).join(" ");
}
