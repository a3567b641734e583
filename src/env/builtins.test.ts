// Every built-in environment type runs the environment contract twice: directly, and through the environment
// service and RemoteEnvironment. A new built-in is covered as soon as it is registered.
import { describe, before, after } from "node:test";
import { registerBuiltinEnvironments } from "./builtins.js";
import { createEnvironment, knownEnvironments } from "./registry.js";
import { RemoteEnvironment, startEnvService, type EnvService } from "./service/index.js";
import { runEnvironmentContract } from "./test-support/environment-contract.js";

registerBuiltinEnvironments();
// `remote` needs a service to point at; it is the client side of every "through the service" run below.
const served = knownEnvironments().filter((name) => name !== "remote");

for (const name of served) runEnvironmentContract(`${name}, direct`, () => createEnvironment(name));

describe("built-in environments through the service", () => {
  let service: EnvService;
  before(async () => {
    service = await startEnvService({ port: 0 });
  });
  after(() => service.close());
  for (const name of served) runEnvironmentContract(`${name}, remote`, () => new RemoteEnvironment({ url: service.url, envType: name }));
});
