// Futures, retries and errors against a scripted HTTP server that behaves as SkyRL and hosted Tinker do (spec §2)
// where the local trainer does not: try_again without long-polling, 408, 5xx on submit, failures as HTTP 400.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { z } from "zod";
import { EvolverError } from "../core/errors.js";
import { TinkerHttp } from "./tinker-http.js";

type Reply = { status: number; body: unknown; headers?: Record<string, string> };
interface Seen {
  path: string;
  body: unknown;
  apiKey: string | undefined;
  prefer: string | undefined;
}

/** A server answering each request with the next scripted reply for its path. */
async function scripted(replies: Record<string, Reply[]>): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let raw = "";
    request.on("data", (chunk) => (raw += chunk));
    request.on("end", () => {
      const path = request.url!.replace("/api/v1/", "");
      seen.push({ path, body: raw ? JSON.parse(raw) : undefined, apiKey: request.headers["x-api-key"] as string | undefined,
        prefer: request.headers.prefer as string | undefined });
      const reply: Reply = replies[path]?.shift() ?? { status: 404, body: { detail: `no script for ${path}` } };
      response.writeHead(reply.status, { "Content-Type": "application/json", ...reply.headers }).end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const Result = z.looseObject({ value: z.number() });
const code = (error: unknown) => (EvolverError.isInstance(error) ? error.code : undefined);
const future = { status: 200, body: { request_id: "7" } };

test("a future is polled through try_again and 408 until its result; the API key goes in X-API-Key", async () => {
  const server = await scripted({
    optim_step: [future],
    retrieve_future: [
      { status: 200, body: { type: "try_again", request_id: "7", queue_state: "active" } },
      { status: 408, body: { detail: "still pending" } },
      { status: 200, body: { type: "try_again", request_id: "7", queue_state: "paused_capacity" } },
      { status: 200, body: { value: 42 } },
    ],
  });
  try {
    const http = new TinkerHttp({ baseUrl: server.url, apiKey: "tml-secret" });
    assert.deepEqual(await http.run("optim_step", { model_id: "m", seq_id: 1 }, Result), { value: 42 });
    assert.equal(server.seen.length, 5);
    assert.ok(server.seen.every((s) => s.apiKey === "tml-secret"));
    assert.deepEqual(server.seen[1].body, { request_id: "7", allow_metadata_only: false });
  } finally {
    await server.close();
  }
});

test("a sample asks Prefer: wait; a server that applied it answered with the result, or the failure, in one round trip", async () => {
  const applied = { "Preference-Applied": "wait" };
  const server = await scripted({
    asample: [
      { status: 200, body: { value: 5 }, headers: applied },
      { status: 200, body: { error: "prompt too long", category: "user" }, headers: applied },
      // not applied (the work took longer, or another server): the answer is the future's handle, polled as before
      future,
    ],
    retrieve_future: [{ status: 200, body: { value: 6 } }],
  });
  try {
    const http = new TinkerHttp({ baseUrl: server.url, requestTimeoutMs: 10_000 });
    const wait = { wait: true };
    assert.deepEqual(await http.run("asample", { seq_id: 1 }, Result, undefined, wait), { value: 5 });
    await assert.rejects(http.run("asample", { seq_id: 2 }, Result, undefined, wait), (e) => code(e) === "TRAINER_REQUEST_FAILED" && /too long/.test((e as Error).message));
    assert.deepEqual(await http.run("asample", { seq_id: 3 }, Result, undefined, wait), { value: 6 });
    assert.deepEqual(server.seen.map((s) => [s.path, s.prefer]), [
      ["asample", "wait=5"],
      ["asample", "wait=5"],
      ["asample", "wait=5"],
      ["retrieve_future", undefined],
    ]);
  } finally {
    await server.close();
  }
});

test("a submit that meets a 5xx is sent again, with the same body (the seq_id makes it safe)", async () => {
  const server = await scripted({
    forward_backward: [{ status: 503, body: { detail: "busy" } }, future],
    retrieve_future: [{ status: 200, body: { value: 1 } }],
  });
  try {
    const http = new TinkerHttp({ baseUrl: server.url });
    await http.run("forward_backward", { model_id: "m", seq_id: 3 }, Result);
    const submits = server.seen.filter((s) => s.path === "forward_backward");
    assert.equal(submits.length, 2);
    assert.deepEqual(submits[0].body, submits[1].body);
  } finally {
    await server.close();
  }
});

test("failed requests: hosted {error, category} and SkyRL's 400 {detail} both become TRAINER_REQUEST_FAILED", async () => {
  const server = await scripted({
    a: [future],
    b: [future],
    retrieve_future: [
      { status: 200, body: { error: "token id 999 is outside the vocabulary", category: "user" } },
      { status: 400, body: { detail: "LoadWeights is not permitted with seq_id 3" } },
    ],
  });
  try {
    const http = new TinkerHttp({ baseUrl: server.url, apiKey: "tml-secret" });
    await assert.rejects(http.run("a", {}, Result), (e) => {
      assert.equal(code(e), "TRAINER_REQUEST_FAILED");
      assert.equal((e as EvolverError).details.category, "user");
      assert.match((e as Error).message, /outside the vocabulary/);
      assert.doesNotMatch((e as Error).message, /tml-secret/);
      return true;
    });
    await assert.rejects(http.run("b", {}, Result), (e) => code(e) === "TRAINER_REQUEST_FAILED" && /not permitted/.test((e as Error).message));
  } finally {
    await server.close();
  }
});

test("4xx answers name the problem; 401 is an auth error; a wrong answer shape is reported", async () => {
  const server = await scripted({
    bad: [{ status: 422, body: { detail: "field 'model_id' is required" } }],
    auth: [{ status: 401, body: { detail: "bad key" } }],
    odd: [{ status: 200, body: { something: "else" } }],
  });
  try {
    const http = new TinkerHttp({ baseUrl: server.url, apiKey: "tml-secret" });
    await assert.rejects(http.call("bad", {}, Result), (e) => code(e) === "TRAINER_BAD_REQUEST" && /model_id/.test((e as Error).message));
    await assert.rejects(http.call("auth", {}, Result), (e) => code(e) === "TRAINER_AUTH" && !/tml-secret/.test((e as Error).message));
    await assert.rejects(http.call("odd", {}, Result), (e) => code(e) === "TRAINER_BAD_RESPONSE");
  } finally {
    await server.close();
  }
});

test("no server: TRAINER_UNREACHABLE after the retries; an aborted call: TRAINER_ABORTED", async () => {
  const server = await scripted({});
  const url = server.url;
  await server.close();
  const http = new TinkerHttp({ baseUrl: url, retries: 1 });
  await assert.rejects(http.call("healthz", {}, Result), (e) => code(e) === "TRAINER_UNREACHABLE");

  const slow = createServer(() => {}); // never answers
  await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
  try {
    const controller = new AbortController();
    const call = new TinkerHttp({ baseUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` }).call("x", {}, Result, controller.signal);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(call, (e) => code(e) === "TRAINER_ABORTED");
  } finally {
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
  }
});
