export * from "./types.js";
export { registerEnvironment, createEnvironment, knownEnvironments, environmentOptionsSchema, type EnvironmentFactory } from "./registry.js";
export { registerBuiltinEnvironments } from "./builtins.js";
export { loadEnvironmentModule, openEnvironment, MODULE_ENVIRONMENT } from "./module-environment.js";
export { KeyChainEnvironment, KeyChainOptions } from "./toy/key-chain.js";
export * from "./service/index.js";
export * from "./bfcl/index.js";
