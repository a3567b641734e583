// The node:http fetch the OpenAI provider hands the SDK and the Tinker client uses, against a real server: what they
// rely on from fetch (method, headers and a text or byte body sent; status, headers and body back, decoded as fetch
// would; event streams as they arrive; aborts with the signal's reason; kept-alive connections reused).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import { createHttpFetch, sharedHttpFetch } from "./http-fetch.js";

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test("a POST goes out with its method, headers and body; the answer comes back whole, over one kept-alive connection", async () => {
  const seen: { method?: string; auth?: string; body: string; socket: unknown }[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      seen.push({ method: request.method, auth: request.headers.authorization, body, socket: request.socket });
      response.writeHead(201, { "content-type": "application/json", "x-request-id": "r1" });
      response.end(JSON.stringify({ echoed: JSON.parse(body) }));
    });
  });
  const url = await listen(server);
  const http = createHttpFetch();
  try {
    for (const n of [1, 2]) {
      const response = await http.fetch(`${url}/v1/chat/completions?x=1`, {
        method: "POST",
        headers: new Headers({ authorization: "Bearer k", "content-type": "application/json" }),
        body: JSON.stringify({ n, text: "é" }),
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("x-request-id"), "r1");
      assert.deepEqual(await response.json(), { echoed: { n, text: "é" } });
    }
    assert.deepEqual(seen.map((s) => [s.method, s.auth, JSON.parse(s.body).n]), [["POST", "Bearer k", 1], ["POST", "Bearer k", 2]]);
    assert.equal(seen[0].socket, seen[1].socket, "the second call reuses the first call's connection");
  } finally {
    http.close();
    server.close();
  }
});

test("an event stream is passed on as it arrives; a 204 has no body", async () => {
  let finish: () => void = () => undefined;
  const server = createServer((request, response) => {
    if (request.url === "/empty") {
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream" });
    response.write("data: one\n\n");
    finish = () => response.end("data: [DONE]\n\n");
  });
  const url = await listen(server);
  const http = createHttpFetch();
  try {
    const response = await http.fetch(`${url}/stream`, { method: "POST", body: "{}" });
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "data: one\n\n", "the first event is readable before the server ends");
    finish();
    let rest = "";
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += new TextDecoder().decode(part.value);
    assert.equal(rest, "data: [DONE]\n\n");
    const empty = await http.fetch(`${url}/empty`, { method: "GET" });
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
  } finally {
    http.close();
    server.close();
  }
});

test("an aborted call rejects with an AbortError (what the SDK reads as a timeout or a user abort)", async () => {
  const server = createServer(() => undefined); // never answers
  const url = await listen(server);
  const http = createHttpFetch();
  try {
    const controller = new AbortController();
    const call = http.fetch(`${url}/slow`, { method: "POST", body: "{}", signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(call, (error: Error) => error.name === "AbortError");
  } finally {
    http.close();
    server.closeAllConnections();
    server.close();
  }
});

async function echoServer() {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.url === "/empty") return response.writeHead(204).end();
      if (request.url === "/gzip") return response.writeHead(200, { "Content-Encoding": "gzip", "Content-Type": "application/json" }).end(gzipSync('{"zipped":true}'));
      if (request.url === "/slow") return setTimeout(() => response.end("late"), 5_000).unref();
      const body = Buffer.concat(chunks);
      response.writeHead(request.url === "/missing" ? 404 : 200, { "Content-Type": request.headers["content-type"] ?? "text/plain", "X-Method": request.method! });
      response.end(JSON.stringify({ url: request.url, length: body.length, bytes: [...body.subarray(0, 4)], key: request.headers["x-api-key"] ?? null }));
    });
  });
  server.on("connection", (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sockets,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

test("status, headers and body come back as a standard Response; a JSON body and headers go out", async () => {
  const server = await echoServer();
  try {
    const response = await sharedHttpFetch.fetch(`${server.url}/api/v1/x`, { method: "POST", headers: { "Content-Type": "application/json", "X-API-Key": "k" }, body: JSON.stringify({ a: 1 }) });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-method"), "POST");
    assert.deepEqual(await response.json(), { url: "/api/v1/x", length: 7, bytes: [123, 34, 97, 34], key: "k" });

    const missing = await sharedHttpFetch.fetch(`${server.url}/missing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("x-method"), "GET");

    const zipped = await sharedHttpFetch.fetch(`${server.url}/gzip`);
    assert.deepEqual(await zipped.json(), { zipped: true }); // decoded, as fetch would
    assert.equal(zipped.headers.get("content-encoding"), null);

    const empty = await sharedHttpFetch.fetch(`${server.url}/empty`, { method: "POST", body: "" });
    assert.equal(empty.status, 204);
    assert.equal(await empty.text(), "");
  } finally {
    await server.close();
  }
});

test("a byte body goes out as sent (what a protobuf request is)", async () => {
  const server = await echoServer();
  try {
    const bytes = new Uint8Array([0, 255, 7, 9, 1]).subarray(1, 4); // a view into a larger buffer
    const response = await sharedHttpFetch.fetch(`${server.url}/bytes`, { method: "POST", headers: { "Content-Type": "application/x-protobuf" }, body: bytes });
    assert.deepEqual(await response.json(), { url: "/bytes", length: 3, bytes: [255, 7, 9], key: null });
    assert.equal(response.headers.get("content-type"), "application/x-protobuf");
  } finally {
    await server.close();
  }
});

test("requests one after another reuse one kept-alive connection", async () => {
  const server = await echoServer();
  try {
    for (let i = 0; i < 5; i++) await (await sharedHttpFetch.fetch(`${server.url}/n${i}`)).text();
    assert.equal(server.sockets.size, 1);
  } finally {
    await server.close();
  }
});

test("an abort ends the request with the signal's reason; a refused connection rejects", async () => {
  const server = await echoServer();
  try {
    const controller = new AbortController();
    const pending = sharedHttpFetch.fetch(`${server.url}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop now")), 50);
    await assert.rejects(pending, /stop now/);
    await assert.rejects(sharedHttpFetch.fetch(`${server.url}/slow`, { signal: AbortSignal.abort(new Error("already")) }), /already/);
  } finally {
    await server.close();
  }
  await assert.rejects(sharedHttpFetch.fetch(server.url), (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED");
});

test("request: the answer read whole with lower-case headers, gzip decoded; a byte body goes out; an abort rejects", async () => {
  const server = await echoServer();
  const url = server.url;
  const http = createHttpFetch();
  try {
    const sent = await http.request(`${url}/bytes`, { method: "POST", headers: { "Content-Type": "application/x-protobuf", "X-API-Key": "k" }, body: new Uint8Array([8, 150, 1, 0]) });
    assert.equal(sent.status, 200);
    assert.equal(sent.headers["x-method"], "POST");
    assert.deepEqual(JSON.parse(sent.body.toString("utf8")), { url: "/bytes", length: 4, bytes: [8, 150, 1, 0], key: "k" });
    const zipped = await http.request(`${url}/gzip`, {});
    assert.deepEqual(JSON.parse(zipped.body.toString("utf8")), { zipped: true });
    assert.equal(zipped.headers["content-encoding"], undefined);
    const controller = new AbortController();
    const slow = http.request(`${url}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 20);
    await assert.rejects(slow, /stop/);
  } finally {
    http.close();
    await server.close();
  }
});
