// The built-in environment types, registered by name in one explicit table.
import { registerEnvironment } from "./registry.js";
import { KeyChainEnvironment } from "./toy/key-chain.js";
import { BfclEnvironment } from "./bfcl/environment.js";
import { RemoteEnvironment, type RemoteEnvironmentOptions } from "./service/client.js";

let registered = false;

export function registerBuiltinEnvironments(): void {
  if (registered) return;
  registered = true;
  // One line per built-in environment type: registerEnvironment(name, factory).
  registerEnvironment("key-chain", (options) => new KeyChainEnvironment(options));
  registerEnvironment("bfcl-v3", (options) => new BfclEnvironment(options));
  registerEnvironment("remote", (options) => new RemoteEnvironment(options as RemoteEnvironmentOptions));
}
