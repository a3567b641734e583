// nodeHttpFetch against a real node:http server: what TinkerHttp relies on of fetch (status, headers, a text or
// byte body both ways, abort, refused connections) and that requests share kept-alive connections.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { nodeHttpFetch } from "./http-transport.js";

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
    const response = await nodeHttpFetch(`${server.url}/api/v1/x`, { method: "POST", headers: { "Content-Type": "application/json", "X-API-Key": "k" }, body: JSON.stringify({ a: 1 }) });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-method"), "POST");
    assert.deepEqual(await response.json(), { url: "/api/v1/x", length: 7, bytes: [123, 34, 97, 34], key: "k" });

    const missing = await nodeHttpFetch(`${server.url}/missing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("x-method"), "GET");

    const zipped = await nodeHttpFetch(`${server.url}/gzip`);
    assert.deepEqual(await zipped.json(), { zipped: true }); // decoded, as fetch would
    assert.equal(zipped.headers.get("content-encoding"), null);

    const empty = await nodeHttpFetch(`${server.url}/empty`, { method: "POST", body: "" });
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
    const response = await nodeHttpFetch(`${server.url}/bytes`, { method: "POST", headers: { "Content-Type": "application/x-protobuf" }, body: bytes });
    assert.deepEqual(await response.json(), { url: "/bytes", length: 3, bytes: [255, 7, 9], key: null });
    assert.equal(response.headers.get("content-type"), "application/x-protobuf");
  } finally {
    await server.close();
  }
});

test("requests one after another reuse one kept-alive connection", async () => {
  const server = await echoServer();
  try {
    for (let i = 0; i < 5; i++) await (await nodeHttpFetch(`${server.url}/n${i}`)).text();
    assert.equal(server.sockets.size, 1);
  } finally {
    await server.close();
  }
});

test("an abort ends the request with the signal's reason; a refused connection rejects", async () => {
  const server = await echoServer();
  try {
    const controller = new AbortController();
    const pending = nodeHttpFetch(`${server.url}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop now")), 50);
    await assert.rejects(pending, /stop now/);
    await assert.rejects(nodeHttpFetch(`${server.url}/slow`, { signal: AbortSignal.abort(new Error("already")) }), /already/);
  } finally {
    await server.close();
  }
  await assert.rejects(nodeHttpFetch(server.url), (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED");
});
