// The built-in environment types, registered by name in one explicit table.
import { registerEnvironment } from "./registry.js";

let registered = false;

export function registerBuiltinEnvironments(): void {
  if (registered) return;
  registered = true;
  // One line per built-in environment type: registerEnvironment(name, factory).
}
