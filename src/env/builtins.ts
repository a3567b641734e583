// The built-in environment types, registered by name in one explicit table.
import { registerEnvironment } from "./registry.js";
import { KeyChainEnvironment, KeyChainOptions } from "./toy/key-chain.js";
import { BfclEnvironment, BfclEnvironmentOptions } from "./bfcl/environment.js";
import { RemoteEnvironment, RemoteEnvironmentOptions } from "./service/client.js";

let registered = false;

export function registerBuiltinEnvironments(): void {
  if (registered) return;
  registered = true;
  // One line per built-in environment type: registerEnvironment(name, factory, options schema).
  registerEnvironment("key-chain", (options) => new KeyChainEnvironment(options), KeyChainOptions);
  registerEnvironment("bfcl-v3", (options) => new BfclEnvironment(options), BfclEnvironmentOptions);
  registerEnvironment("remote", (options) => new RemoteEnvironment(options as RemoteEnvironmentOptions), RemoteEnvironmentOptions);
}
