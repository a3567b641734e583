import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { ChatMessage } from "../../core/messages.js";
import { registerEnvironment } from "../registry.js";
import { CounterEnvironment } from "../test-support/counter-environment.js";
import { startEnvService, type EnvService } from "./server.js";

// The counter comes from the registry, through the service's default resolver, as a built-in type would.
let counter: CounterEnvironment | undefined;
registerEnvironment("counter", () => (counter = new CounterEnvironment()));

interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

async function post(service: EnvService, path: string, body: unknown, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(service.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text.startsWith("{") ? JSON.parse(text) : text };
}

/** The body AgentEvolver's EnvClient sends: all five fields, null where unused. */
function agentEvolverBody(fields: Record<string, unknown>) {
  return { env_type: "default", task_id: null, instance_id: null, messages: {}, params: {}, ...fields };
}

function increment(id: string, by: unknown) {
  return { role: "assistant", content: "", tool_calls: [{ id, type: "function", function: { name: "increment", arguments: JSON.stringify({ by }) } }] };
}

test("binds 127.0.0.1 by default and answers /healthz", async (t) => {
  const service = await startEnvService({ port: 0 });
  try {
    assert.equal(service.host, "127.0.0.1");
    assert.match(service.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${service.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "OK");
    const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal);
    if (!external) return t.diagnostic("no non-loopback IPv4 interface to probe");
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(service.port, external.address);
      socket.once("connect", () => (socket.destroy(), resolve(false)));
      socket.once("error", () => resolve(true));
    });
    assert.ok(refused, `the service answered on ${external.address}`);
  } finally {
    await service.close();
  }
});

describe("environment service over HTTP", () => {
  let service: EnvService;
  before(async () => {
    service = await startEnvService({ port: 0, maxBodyBytes: 4096 });
  });
  after(() => service.close());

  test("runs an episode with AgentEvolver's request shapes", async () => {
    const tasks = await post(service, "/get_env_profile", agentEvolverBody({ env_type: "counter", params: { split: "train" } }));
    assert.deepEqual(tasks.json, { success: true, data: ["count-to-1", "count-to-2", "count-to-3", "count-to-4"] });

    const created = await post(service, "/create", agentEvolverBody({ env_type: "counter", task_id: "count-to-3", params: { is_open_query: false } }));
    assert.equal(created.status, 200);
    const id = created.json.data.info.instance_id;
    assert.equal(typeof id, "string");
    assert.equal(created.json.data.info.task_id, "count-to-3");
    assert.deepEqual(created.json.data.state.map((m: any) => m.role), ["system", "user"]);
    assert.deepEqual(created.json.data.tools.map((t: any) => t.function.name), ["increment", "read_count"]);

    const stepped = await post(service, "/step", agentEvolverBody({ instance_id: id, messages: increment("c1", 3) }));
    assert.deepEqual(stepped.json, {
      success: true,
      data: { state: [{ role: "tool", tool_call_id: "c1", name: "increment", content: '{"count":3}' }], reward: null, is_terminated: false, info: { count: 3 } },
    });
    const info = await post(service, "/get_info", agentEvolverBody({ instance_id: id }));
    assert.deepEqual(info.json.data, created.json.data.tools);
    const evaluated = await post(service, "/evaluate", agentEvolverBody({ instance_id: id, params: { sparse: true } }));
    assert.deepEqual(evaluated.json, { success: true, data: 1, evaluation: { score: 1, success: true, details: { count: 3, target: 3 } } });

    assert.deepEqual((await post(service, "/release", agentEvolverBody({ instance_id: id }))).json, { success: true, data: null });
    const again = await post(service, "/release", agentEvolverBody({ instance_id: id }));
    assert.equal(again.status, 200);
    assert.equal(again.json.success, false);
    assert.equal(again.json.error.code, "ENV_INSTANCE_UNKNOWN");
    assert.equal(counter?.liveInstances, 0);
  });

  test("a tool-call problem is an observation in a normal step answer", async () => {
    const id = (await post(service, "/create", { env_type: "counter", task_id: "count-to-2" })).json.data.info.instance_id;
    const unknownFunction = { role: "assistant", tool_calls: [{ id: "u", function: { name: "explode", arguments: "{}" } }] };
    const badArguments = increment("b", "three");
    for (const action of [unknownFunction, badArguments]) {
      const reply = await post(service, "/step", { instance_id: id, messages: action });
      assert.equal(reply.status, 200);
      assert.match(JSON.parse(reply.json.data.state[0].content).error, /unknown function 'explode'|by must be an integer/);
    }
    await post(service, "/release", { instance_id: id });
  });

  test("every bad request is a 4xx naming the problem, and the service and live instances carry on", async () => {
    const live = (await post(service, "/create", { env_type: "counter", task_id: "count-to-4" })).json.data.info.instance_id;
    await post(service, "/step", { instance_id: live, messages: increment("a", 1) });
    const cases: Array<[string, () => Promise<Reply>, number, string, RegExp]> = [
      ["malformed JSON", () => post(service, "/create", '{"env_type": "counter",'), 400, "ENV_SERVICE_BAD_JSON", /not JSON/],
      ["empty body", () => post(service, "/step", ""), 400, "ENV_SERVICE_BAD_JSON", /empty/],
      ["array body", () => post(service, "/create", "[1]"), 400, "ENV_SERVICE_BAD_REQUEST", /JSON object/],
      ["missing task_id", () => post(service, "/create", { env_type: "counter" }), 400, "ENV_SERVICE_BAD_REQUEST", /task_id is required/],
      ["missing env_type", () => post(service, "/create", { task_id: "count-to-1" }), 400, "ENV_SERVICE_BAD_REQUEST", /env_type is required/],
      ["unknown env type", () => post(service, "/create", { env_type: "nope", task_id: "x" }), 400, "ENV_UNKNOWN", /unknown environment type 'nope'; known: .*counter/],
      ["remote is not served", () => post(service, "/create", { env_type: "remote", task_id: "x" }), 400, "ENV_UNKNOWN", /'remote' is not served/],
      ["unknown task", () => post(service, "/create", { env_type: "counter", task_id: "count-to-99" }), 404, "ENV_UNKNOWN_TASK", /count-to-99/],
      ["bad split", () => post(service, "/get_env_profile", { env_type: "counter", params: { split: "dev" } }), 400, "ENV_SERVICE_BAD_REQUEST", /split/],
      ["unknown instance", () => post(service, "/step", { instance_id: "ghost", messages: increment("g", 1) }), 404, "ENV_INSTANCE_UNKNOWN", /ghost/],
      ["missing instance_id", () => post(service, "/evaluate", {}), 400, "ENV_SERVICE_BAD_REQUEST", /instance_id is required/],
      ["missing action", () => post(service, "/step", { instance_id: live }), 400, "ENV_SERVICE_BAD_REQUEST", /messages is required/],
      ["action from the user", () => post(service, "/step", { instance_id: live, messages: { role: "user", content: "hi" } }), 400, "ENV_SERVICE_BAD_REQUEST", /assistant/],
      ["arguments not text", () => post(service, "/step", { instance_id: live, messages: { role: "assistant", tool_calls: [{ id: "x", function: { name: "increment", arguments: 5 } }] } }), 400, "ENV_SERVICE_BAD_REQUEST", /arguments/],
      ["duplicate instance_id", () => post(service, "/create", { env_type: "counter", task_id: "count-to-1", instance_id: live }), 409, "ENV_INSTANCE_EXISTS", new RegExp(live)],
      ["oversized body", () => post(service, "/create", { env_type: "counter", task_id: "x".repeat(5000) }), 413, "ENV_SERVICE_BODY_TOO_LARGE", /4096 bytes/],
      ["unknown path", () => post(service, "/reset", {}), 404, "ENV_SERVICE_NOT_FOUND", /no endpoint \/reset; the service has .*\/create/],
      ["wrong method", () => fetch(`${service.url}/create`).then(async (r) => ({ status: r.status, headers: r.headers, json: await r.json() })), 405, "ENV_SERVICE_METHOD_NOT_ALLOWED", /takes POST/],
    ];
    for (const [name, send, status, code, message] of cases) {
      const reply = await send();
      assert.equal(reply.status, status, `${name}: status`);
      assert.equal(reply.json.success, false, `${name}: success`);
      assert.equal(reply.json.error.code, code, `${name}: code`);
      assert.match(reply.json.detail, message, `${name}: detail`);
      assert.doesNotMatch(reply.json.detail, /\n\s+at /, `${name}: a stack trace`);
    }
    const reply = await post(service, "/step", { instance_id: live, messages: increment("b", 3) });
    assert.equal(JSON.parse(reply.json.data.state[0].content).count, 4, "the live instance lost its state");
    assert.equal((await post(service, "/evaluate", { instance_id: live })).json.evaluation.success, true);
    await post(service, "/release", { instance_id: live });
  });

  test("many concurrent instances stay independent; calls on one instance run in order", async () => {
    const ids = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const reply = await post(service, "/create", { env_type: "counter", task_id: "count-to-4", instance_id: `concurrent-${i}` });
        return reply.json.data.info.instance_id as string;
      }),
    );
    // Instance i gets (i % 4) + 1 increments of 1, all sent at once.
    await Promise.all(ids.flatMap((id, i) => Array.from({ length: (i % 4) + 1 }, (_, k) => post(service, "/step", { instance_id: id, messages: increment(`k${k}`, 1) }))));
    const scores = await Promise.all(ids.map((id) => post(service, "/evaluate", { instance_id: id })));
    scores.forEach((reply, i) => assert.equal(reply.json.evaluation.details.count, (i % 4) + 1, `instance ${i}`));

    const one = ids[0];
    const counts = await Promise.all(Array.from({ length: 20 }, (_, k) => post(service, "/step", { instance_id: one, messages: increment(`s${k}`, 1) })));
    assert.deepEqual(counts.map((r) => JSON.parse(r.json.data.state[0].content).count).sort((a, b) => a - b), Array.from({ length: 20 }, (_, k) => k + 2));
    await Promise.all(ids.map((id) => post(service, "/release", { instance_id: id })));
  });

  test("every JSON answer says the server's own time in a Server-Timing header", async () => {
    for (const reply of [await post(service, "/get_env_profile", { env_type: "counter" }), await post(service, "/step", { instance_id: "nobody" })]) {
      const timing = /^app;dur=(\d+\.\d{3})$/.exec(reply.headers.get("server-timing") ?? "");
      assert.ok(timing, `server-timing: ${reply.headers.get("server-timing")}`);
      assert.ok(Number(timing[1]) >= 0 && Number(timing[1]) < 10_000);
    }
  });

  test("keeps connections alive", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${service.url}/get_env_profile`, { method: "POST", agent }, (res) => {
          reused.push(req.reusedSocket);
          res.resume().on("end", resolve);
        });
        req.on("error", reject);
        req.end(JSON.stringify({ env_type: "counter" }));
      });
    }
    agent.destroy();
    assert.deepEqual(reused, [false, true, true]);
  });
});

test("idle instances expire and are released; busy ones do not", async () => {
  const service = await startEnvService({ port: 0, idleTimeoutMs: 150 });
  try {
    const create = async () => (await post(service, "/create", { env_type: "counter", task_id: "count-to-5" })).json.data.info.instance_id as string;
    const [idle, busy] = [await create(), await create()];
    for (let i = 0; i < 8; i++) {
      await sleep(50);
      assert.equal((await post(service, "/step", { instance_id: busy, messages: increment(`b${i}`, 1) })).status, 200);
    }
    const expired = await post(service, "/step", { instance_id: idle, messages: increment("late", 1) });
    assert.equal(expired.status, 410);
    assert.equal(expired.json.error.code, "ENV_INSTANCE_EXPIRED");
    assert.match(expired.json.detail, /expired after 0.15 s/);
    assert.equal(service.instanceCount(), 1);
    assert.equal(counter?.liveInstances, 1, "the expired instance was not released");
  } finally {
    await service.close();
  }
});

test("refuses instances beyond maxInstances until one is released", async () => {
  const service = await startEnvService({ port: 0, maxInstances: 2 });
  try {
    const create = () => post(service, "/create", { env_type: "counter", task_id: "count-to-1" });
    const first = await create();
    await create();
    const refused = await create();
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error.code, "ENV_SERVICE_FULL");
    await post(service, "/release", { instance_id: first.json.data.info.instance_id });
    assert.equal((await create()).status, 200);
  } finally {
    await service.close();
  }
});

test("close releases every instance, closes the environments and stops listening", async () => {
  const service = await startEnvService({ port: 0 });
  for (let i = 0; i < 3; i++) await post(service, "/create", { env_type: "counter", task_id: "count-to-2" });
  const environment = counter;
  assert.equal(environment?.liveInstances, 3);
  await service.close();
  assert.equal(environment?.liveInstances, 0);
  assert.equal(environment?.closed, true);
  await assert.rejects(fetch(`${service.url}/healthz`));
});

test("close lets a running call finish before releasing its instance", async () => {
  const slow = new CounterEnvironment();
  const service = await startEnvService({
    port: 0,
    environments: async () => ({
      name: "slow-counter",
      listTasks: (split) => slow.listTasks(split),
      profile: () => slow.profile(),
      create: async (taskId) => {
        const instance = await slow.create(taskId);
        const step = instance.step.bind(instance);
        return Object.assign(instance, { step: async (action: ChatMessage) => (await sleep(200), step(action)) });
      },
    }),
  });
  const id = (await post(service, "/create", { env_type: "slow-counter", task_id: "count-to-1" })).json.data.info.instance_id;
  const running = post(service, "/step", { instance_id: id, messages: increment("s", 1) });
  await sleep(50);
  const closing = service.close();
  const reply = await running;
  assert.equal(reply.status, 200);
  assert.equal(JSON.parse(reply.json.data.state[0].content).count, 1);
  await closing;
  assert.equal(slow.liveInstances, 0);
});
