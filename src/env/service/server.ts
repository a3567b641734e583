// The environment service: AgentEvolver's env-service HTTP protocol over plain node:http (docs/env-service.md).
// Environment types come only from a resolver (by default the registry table); nothing a request names is ever
// imported. Connections are kept alive, instances live in one table, idle ones expire, and every failure reaches
// the wire through `errorResponse` as JSON; a bad request never disturbs the service or other instances.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { EvolverError } from "../../core/errors.js";
import { createEnvironment, knownEnvironments } from "../registry.js";
import type { Environment } from "../types.js";
import { JsonText } from "./answer-text.js";
import { postEndpoints, type ServiceContext } from "./endpoints.js";
import { errorResponse } from "./errors.js";
import { InstanceTable } from "./instances.js";

const EnvServiceOptions = z.strictObject({
  /** Loopback by default: the service runs whatever tool calls it is sent. */
  host: z.string().default("127.0.0.1"),
  /** 0 picks a free port; `EnvService.port` tells which. */
  port: z.number().int().min(0).max(65535).default(8080),
  idleTimeoutMs: z.number().positive().default(600_000),
  maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
  maxInstances: z.number().int().positive().default(4096),
  /** Environment types the service may serve, by name. Default: the registry table, less `remote`. */
  environments: z.custom<(name: string) => Promise<Environment>>((value) => typeof value === "function").optional(),
});
export type EnvServiceOptions = z.input<typeof EnvServiceOptions>;

export interface EnvService {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Live instances now. */
  instanceCount(): number;
  /** Stops accepting, lets running calls finish, releases every instance and closes the environments. */
  close(): Promise<void>;
}

/**
 * A resolver over the registry table, limited to `only` when given. `remote` is never served: it would let a
 * request make the service call out to another server.
 */
export function registryEnvironments(only?: string[]): (name: string) => Promise<Environment> {
  const served = () => (only ?? knownEnvironments()).filter((name) => name !== "remote");
  for (const name of only ?? []) {
    if (name === "remote" || !knownEnvironments().includes(name)) throw unknownType(name, knownEnvironments().filter((n) => n !== "remote"));
  }
  return async (name) => {
    if (!served().includes(name)) throw unknownType(name, served());
    return createEnvironment(name);
  };
}

function unknownType(name: string, known: string[]): EvolverError {
  const what = name === "remote" ? "environment type 'remote' is not served" : `unknown environment type '${name}'`;
  return new EvolverError("ENV_UNKNOWN", `${what}; known: ${known.join(", ") || "(none)"}`, { details: { name, known } });
}

export async function startEnvService(options: EnvServiceOptions = {}): Promise<EnvService> {
  const parsed = EnvServiceOptions.safeParse(options);
  if (!parsed.success) {
    throw new EvolverError("ENV_BAD_OPTIONS", `env service options: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const { host, port, idleTimeoutMs, maxBodyBytes, maxInstances } = parsed.data;
  const resolve = parsed.data.environments ?? registryEnvironments();
  const table = new InstanceTable({ idleTimeoutMs, maxInstances });
  // One Environment per type, made on first use; a failed resolution is not cached.
  const environments = new Map<string, Promise<Environment>>();
  let closing = false;

  const context: ServiceContext = {
    table,
    get closing() {
      return closing;
    },
    environment(name) {
      let environment = environments.get(name);
      if (!environment) {
        environment = Promise.resolve().then(() => resolve(name));
        environments.set(name, environment);
        environment.catch(() => environments.delete(name));
      }
      return environment;
    },
  };

  const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => {
    handleRequest(request, response, context, maxBodyBytes);
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(port, host, () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  });
  const bound = (server.address() as AddressInfo).port;

  const sweep = setInterval(() => {
    for (const entry of table.sweep(Date.now())) entry.tail.then(() => entry.instance.release()).catch(() => undefined);
  }, Math.min(30_000, Math.max(10, idleTimeoutMs / 4)));
  sweep.unref();

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing = true;
    clearInterval(sweep);
    // Keep-alive connections that finish a call after close() began are closed as soon as they are idle.
    const idleCloser = setInterval(() => server.closeIdleConnections(), 20);
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    clearInterval(idleCloser);
    clearTimeout(force);
    const entries = table.drain();
    await Promise.allSettled(entries.map((entry) => entry.tail.then(() => entry.instance.release())));
    await Promise.allSettled([...environments.values()].map((environment) => environment.then((e) => e.close?.())));
  }

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    host,
    port: bound,
    instanceCount: () => table.size,
    close: () => (closed ??= close()),
  };
}

function handleRequest(request: IncomingMessage, response: ServerResponse, context: ServiceContext, maxBodyBytes: number): void {
  // Every JSON answer says in a Server-Timing header how long the server took from the request's arrival (headers
  // parsed) to the answer: a client can tell the service's own time from the network's and its own queueing.
  const arrived = performance.now();
  const url = request.url ?? "/";
  const queryAt = url.indexOf("?");
  const path = queryAt < 0 ? url : url.slice(0, queryAt);

  if (path === "/healthz") {
    if (request.method !== "GET" && request.method !== "HEAD") return sendError(response, arrived, methodNotAllowed(path, "GET"), "GET, HEAD");
    response.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
    response.end("OK");
    return;
  }
  const endpoint = postEndpoints.get(path);
  if (!endpoint) {
    const known = ["/healthz", ...postEndpoints.keys()].join(", ");
    return sendError(response, arrived, new EvolverError("ENV_SERVICE_NOT_FOUND", `no endpoint ${path}; the service has ${known}`, { details: { path } }));
  }
  if (request.method !== "POST") return sendError(response, arrived, methodNotAllowed(path, "POST"), "POST");
  if (context.closing) {
    response.setHeader("connection", "close");
    return sendError(response, arrived, new EvolverError("ENV_SERVICE_CLOSING", "the service is shutting down"));
  }

  const declared = Number(request.headers["content-length"]);
  if (declared > maxBodyBytes) return sendTooLarge(request, response, arrived, maxBodyBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  request.on("data", (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > maxBodyBytes) {
      tooLarge = true;
      sendTooLarge(request, response, arrived, maxBodyBytes);
      return;
    }
    chunks.push(chunk);
  });
  request.on("end", () => {
    if (tooLarge) return;
    let body: unknown;
    try {
      body = JSON.parse((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString("utf8"));
    } catch (error) {
      const problem = size === 0 ? "the body is empty" : (error as Error).message;
      return sendError(response, arrived, new EvolverError("ENV_SERVICE_BAD_JSON", `${path}: the body is not JSON: ${problem}`));
    }
    endpoint(body, context).then(
      (result) => sendJson(response, arrived, 200, result),
      (error: unknown) => sendError(response, arrived, error),
    );
  });
  // A client that hangs up mid-body leaves nothing to answer.
  request.on("error", () => undefined);
}

function methodNotAllowed(path: string, allowed: string): EvolverError {
  return new EvolverError("ENV_SERVICE_METHOD_NOT_ALLOWED", `${path} takes ${allowed}`, { details: { path, allowed } });
}

function sendTooLarge(request: IncomingMessage, response: ServerResponse, arrived: number, maxBodyBytes: number): void {
  // The rest of the body is not read, so this connection cannot carry another request.
  response.setHeader("connection", "close");
  sendError(response, arrived, new EvolverError("ENV_SERVICE_BODY_TOO_LARGE", `the body is larger than the limit of ${maxBodyBytes} bytes`, { details: { maxBodyBytes } }));
  response.on("finish", () => request.destroy());
}

function sendError(response: ServerResponse, arrived: number, error: unknown, allow?: string): void {
  const { status, body } = errorResponse(error);
  if (allow) response.setHeader("allow", allow);
  sendJson(response, arrived, status, body);
}

function sendJson(response: ServerResponse, arrived: number, status: number, body: unknown): void {
  if (response.headersSent) return;
  let text: string;
  try {
    text = body instanceof JsonText ? body.text : JSON.stringify(body);
  } catch (error) {
    ({ status, body } = errorResponse(new EvolverError("ENV_SERVICE_INTERNAL", `the answer is not JSON: ${(error as Error).message}`)));
    text = JSON.stringify(body);
  }
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "server-timing": `app;dur=${(performance.now() - arrived).toFixed(3)}`,
  });
  response.end(text);
}
