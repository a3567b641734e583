export { startEnvService, registryEnvironments, type EnvService, type EnvServiceOptions } from "./server.js";
export { RemoteEnvironment, RemoteEnvironmentOptions, agentEvolverDefaults } from "./client.js";
