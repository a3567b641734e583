// A fetch for the OpenAI SDK over node:http(s) with one keep-alive agent. The SDK's default, undici's fetch, costs
// about twice the CPU per call, and 64 rollouts whose answers arrive together pay it 64 times in one go: that burst
// was the longest event-loop block of a rollout batch (bench rollout-orchestration). Bodies the SDK sends as text or
// bytes go this way; anything else (streams, form data, a Request object) goes to the global fetch. Answers are
// read whole, except event streams, which are passed on as they arrive.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";

export interface HttpFetch {
  fetch: typeof globalThis.fetch;
  /** Closes the idle keep-alive connections. */
  close(): void;
}

// Statuses whose Response may not carry a body.
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export function createHttpFetch(): HttpFetch {
  // Idle sockets are dropped after 4 s, before a server's keep-alive timeout (uvicorn: 5 s) could race a reuse.
  const httpAgent = new HttpAgent({ keepAlive: true, timeout: 4_000 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, timeout: 4_000 });

  const send = (url: URL, init: RequestInit, body: string | Uint8Array | undefined, retryReset: boolean): Promise<Response> =>
    new Promise((resolve, reject) => {
      const https = url.protocol === "https:";
      const headers: OutgoingHttpHeaders = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      if (body !== undefined) headers["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
      const request = (https ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: url.port,
          path: url.pathname + url.search,
          method: init.method ?? "GET",
          headers,
          agent: https ? httpsAgent : httpAgent,
          signal: init.signal ?? undefined,
        },
        (response: IncomingMessage) => {
          const status = response.statusCode ?? 0;
          const responseHeaders: [string, string][] = [];
          for (let i = 0; i < response.rawHeaders.length; i += 2) responseHeaders.push([response.rawHeaders[i], response.rawHeaders[i + 1]]);
          const head = { status, statusText: response.statusMessage ?? "", headers: responseHeaders };
          if (NULL_BODY_STATUS.has(status)) {
            response.resume();
            return resolve(new Response(null, head));
          }
          if (/^text\/event-stream/i.test(response.headers["content-type"] ?? "")) {
            return resolve(new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, head));
          }
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => resolve(new Response(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), head)));
          response.on("error", reject);
        },
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        // A reused keep-alive socket the server had closed fails before anything was sent (Node's documented case):
        // once, the call goes again on a fresh connection.
        if (retryReset && request.reusedSocket && error.code === "ECONNRESET" && !init.signal?.aborted) {
          resolve(send(url, init, body, false));
        } else reject(error);
      });
      request.end(body);
    });

  const fetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    const plain = body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array;
    if (input instanceof Request || !plain) return globalThis.fetch(input, init);
    const url = input instanceof URL ? input : new URL(input);
    if (url.protocol !== "http:" && url.protocol !== "https:") return globalThis.fetch(input, init);
    return send(url, init, body ?? undefined, true);
  };

  return {
    fetch: fetch as typeof globalThis.fetch,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
