import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage } from "../../core/messages.js";
import { registerBuiltinEnvironments } from "../builtins.js";
import { createEnvironment } from "../registry.js";
import { CounterEnvironment } from "../test-support/counter-environment.js";
import { environmentCapabilities } from "../types.js";
import { runEnvironmentContract } from "../test-support/environment-contract.js";
import { RemoteEnvironment } from "./client.js";
import { startEnvService, type EnvService } from "./server.js";

const counterOnly = async (name: string) => {
  if (name !== "counter") throw new EvolverError("ENV_UNKNOWN", `unknown environment type '${name}'; known: counter`);
  return new CounterEnvironment();
};

runEnvironmentContract("counter, direct", () => new CounterEnvironment());

describe("counter through the service", () => {
  let service: EnvService;
  before(async () => {
    service = await startEnvService({ port: 0, environments: counterOnly });
  });
  after(() => service.close());

  runEnvironmentContract("counter, remote", () => new RemoteEnvironment({ url: service.url, envType: "counter" }));

  test("an episode gives the same answers directly and remotely", async () => {
    const remote = new RemoteEnvironment({ url: service.url, envType: "counter" });
    const direct = new CounterEnvironment();
    const actions: ChatMessage[] = [
      { role: "assistant", content: "", tool_calls: [{ id: "a", type: "function", function: { name: "increment", arguments: '{"by": 2}' } }] },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          { id: "b", type: "function", function: { name: "read_count", arguments: "" } },
          { id: "c", type: "function", function: { name: "increment", arguments: '{"by": 1}' } },
        ],
      },
      { role: "assistant", content: "Done." },
    ];
    const [remoteInstance, directInstance] = [await remote.create("count-to-3"), await direct.create("count-to-3")];
    assert.deepEqual(remoteInstance.initial.messages, directInstance.initial.messages);
    assert.deepEqual(remoteInstance.initial.tools, directInstance.initial.tools);
    assert.equal(remoteInstance.initial.info.target, 3);
    for (const action of actions) assert.deepEqual(await remoteInstance.step(action), await directInstance.step(action));
    assert.deepEqual(await remoteInstance.evaluate(), await directInstance.evaluate());
    await remoteInstance.release();
    await remoteInstance.release(); // twice is fine
    await assert.rejects(remoteInstance.step(actions[0]), (error: unknown) => {
      assert.ok(EvolverError.isInstance(error));
      assert.equal(error.code, "ENV_REMOTE_ERROR");
      assert.equal(error.details.status, 404);
      assert.equal(error.details.remoteCode, "ENV_INSTANCE_UNKNOWN");
      return true;
    });
    await remote.close();
  });

  test("a service-side error is ENV_REMOTE_ERROR carrying the service's code and message", async () => {
    const remote = new RemoteEnvironment({ url: service.url, envType: "nope" });
    await assert.rejects(remote.listTasks("train"), (error: unknown) => {
      assert.ok(EvolverError.isInstance(error));
      assert.equal(error.code, "ENV_REMOTE_ERROR");
      assert.equal(error.details.remoteCode, "ENV_UNKNOWN");
      assert.match(error.message, /answered 400: unknown environment type 'nope'; known: counter/);
      return true;
    });
    await remote.close();
  });
});

/** A raw server that answers with `handler`, counting requests. */
async function rawServer(handler: (req: IncomingMessage, res: ServerResponse, body: any) => void) {
  const requests: Array<{ path: string; body: any }> = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const body = text ? JSON.parse(text) : undefined;
      requests.push({ path: req.url ?? "", body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, requests, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (server: Server) => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));

test("reads AgentEvolver's own servers (their answers as env_service.py and appworld_env.py write them)", async () => {
  const { server, requests, url } = await rawServer((req, res, body) => {
    const send = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (req.url === "/get_env_profile") return send(200, { success: true, data: ["82e2fac_1", "29caf6f_2"] });
    if (req.url === "/create") {
      if (body.task_id === "missing") return send(400, { detail: "Test case id 'missing' not found" });
      return send(200, {
        success: true,
        data: {
          state: [
            { role: "system", content: "prompt with the API docs" },
            { role: "user", content: "How many songs are in my Spotify library?" },
          ],
          info: { instance_id: body.instance_id, task_id: body.task_id },
        },
      });
    }
    if (req.url === "/step") {
      return send(200, { success: true, data: { state: [{ role: "user", content: "Output: 42", tool_calls: [] }], reward: 0.0, is_terminated: false, info: {} } });
    }
    if (req.url === "/evaluate") return send(200, { success: true, data: 0.5 });
    if (req.url === "/release") return send(200, { success: true, data: null });
    send(404, { detail: "Not Found" });
  });
  const remote = new RemoteEnvironment({ url, envType: "appworld" });
  try {
    assert.deepEqual(await remote.listTasks("train"), ["82e2fac_1", "29caf6f_2"]);
    const instance = await remote.create("82e2fac_1");
    assert.deepEqual(instance.initial.tools, []);
    assert.equal(instance.initial.messages[1].content, "How many songs are in my Spotify library?");
    const step = await instance.step({ role: "assistant", content: "print(len(songs))" });
    assert.deepEqual(step, { observations: [{ role: "user", content: "Output: 42" }], done: false, reward: 0, info: {} });
    assert.deepEqual(await instance.evaluate(), { score: 0.5, success: false, details: {} });
    await instance.release();
    await assert.rejects(remote.create("missing"), /answered 400: Test case id 'missing' not found/);
    // AgentEvolver keeps profiles in JSON files; its servers have no /describe: a bare profile, named.
    assert.deepEqual((await remote.profile()).entities, []);
    // No /describe, so no word on step rewards: "no" (AppWorld's steps answer reward 0.0 until the end).
    assert.deepEqual(await environmentCapabilities(remote), { stepRewards: false, decodesCalls: false });
    // Every request carries AgentEvolver's full shape.
    assert.deepEqual(Object.keys(requests[1].body).sort(), ["env_type", "instance_id", "messages", "params", "task_id"]);
    assert.deepEqual(requests[2].body.messages, { role: "assistant", content: "print(len(songs))" });
  } finally {
    await remote.close();
    await close(server);
  }
});

test("no service: ENV_UNREACHABLE; a refused connection is retried until the service is up", async () => {
  const { server, url } = await rawServer(() => undefined);
  const port = (server.address() as AddressInfo).port;
  await close(server);
  const remote = new RemoteEnvironment({ url, envType: "counter", retries: 0 });
  await assert.rejects(remote.create("count-to-1"), (error: unknown) => {
    assert.ok(EvolverError.isInstance(error));
    assert.equal(error.code, "ENV_UNREACHABLE");
    assert.match(error.message, /ECONNREFUSED/);
    return true;
  });
  await remote.close();

  // Retries back off 100, 200, 400 ms: a service that starts after 150 ms is reached.
  const patient = new RemoteEnvironment({ url, envType: "counter", retries: 3 });
  let late: EnvService | undefined;
  const starting = new Promise<void>((resolve) =>
    setTimeout(async () => {
      late = await startEnvService({ port, environments: counterOnly });
      resolve();
    }, 150),
  );
  try {
    assert.deepEqual(await patient.listTasks("val"), ["count-to-5"]);
  } finally {
    await starting;
    await patient.close();
    await late?.close();
  }
});

test("a call with no answer times out; only idempotent calls are tried again", async () => {
  const { server, requests, url } = await rawServer(() => undefined); // never answers
  const remote = new RemoteEnvironment({ url, envType: "counter", timeoutMs: 150, retries: 1 });
  try {
    await assert.rejects(remote.listTasks("train"), /unreachable on \/get_env_profile: no answer within 150 ms/);
    assert.equal(requests.length, 2);
    await assert.rejects(remote.create("count-to-1"), /ENV_UNREACHABLE|no answer within 150 ms/);
    assert.equal(requests.length, 3, "create was sent twice");
  } finally {
    await remote.close();
    await close(server);
  }
});

test("the remote environment type is in the registry, with its options checked", async () => {
  registerBuiltinEnvironments();
  const remote = await createEnvironment("remote", { url: "http://127.0.0.1:8080", envType: "bfcl-v3" });
  assert.ok(remote instanceof RemoteEnvironment);
  assert.equal(remote.name, "bfcl-v3");
  await remote.close?.();
  await assert.rejects(async () => createEnvironment("remote", { url: "ftp://x", envType: "bfcl-v3" }), /ENV_BAD_OPTIONS|url must be an http\(s\) URL/);
  await assert.rejects(async () => createEnvironment("remote", { url: "http://127.0.0.1:8080" }), /envType/);
  await assert.rejects(async () => createEnvironment("remote", { url: "http://127.0.0.1:8080", envType: "x", retry: 3 }), /retry/);
});
