// Every built-in environment type runs the environment contract twice: directly, and through the environment
// service and RemoteEnvironment. A new built-in is covered as soon as it is registered.
import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { registerBuiltinEnvironments } from "./builtins.js";
import { createEnvironment, knownEnvironments } from "./registry.js";
import { RemoteEnvironment, startEnvService, type EnvService } from "./service/index.js";
import { runEnvironmentContract } from "./test-support/environment-contract.js";
import { environmentCapabilities } from "./types.js";

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

  test("capabilities through the service are the environment's own", async () => {
    const answers: Record<string, [boolean, boolean]> = {};
    for (const name of served) {
      const remote = new RemoteEnvironment({ url: service.url, envType: name });
      answers[name] = [(await environmentCapabilities(await createEnvironment(name))).stepRewards, (await environmentCapabilities(remote)).stepRewards];
      await remote.close();
    }
    // key-chain says per step whether the letter was right; BFCL grades only whole turns, in evaluate.
    assert.deepEqual(answers["key-chain"], [true, true]);
    assert.deepEqual(answers["bfcl-v3"], [false, false]);
    for (const [name, [direct, remote]] of Object.entries(answers)) assert.equal(remote, direct, name);
  });
});
