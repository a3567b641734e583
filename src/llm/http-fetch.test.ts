// The node:http fetch the OpenAI provider hands the SDK: what the SDK relies on from fetch (method, headers and body
// sent; status, headers and body back; event streams as they arrive; aborts as AbortError), against a real server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpFetch } from "./http-fetch.js";

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
