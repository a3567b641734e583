// The Tinker client's HTTP: fetch's interface over node:http(s) with keep-alive agents. A rollout batch sends two
// requests per sampled step (asample, then retrieve_future), hundreds per iteration; Node's built-in fetch spends
// several times the CPU of node:http on each (web streams, request cloning, a timer per request), which showed as
// most of the evolve loop's own CPU in a profile of the quick start. Only what TinkerHttp uses is served: a URL,
// method, headers, a string or byte body, a signal; the answer is a standard Response built from the whole body.
import http from "node:http";
import https from "node:https";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

// No socket limit: every sample in flight holds one connection in its long-poll (retrieve_future), and a limit below
// the number in flight would queue the very requests that complete those futures behind them.
const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

/** What fetch would decode (no Accept-Encoding is sent, so a server should not compress; some do anyway). */
const DECODERS: Record<string, (data: Buffer) => Buffer> = { gzip: gunzipSync, "x-gzip": gunzipSync, deflate: inflateSync, br: brotliDecompressSync };

/** Statuses whose Response may not have a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export const nodeHttpFetch: typeof fetch = (input, init = {}) => {
  if (typeof input !== "string" && !(input instanceof URL)) throw new TypeError("nodeHttpFetch takes a URL, not a Request");
  const url = new URL(input);
  const transport = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
  if (!transport) throw new TypeError(`nodeHttpFetch: unsupported protocol ${url.protocol}`);
  const body = init.body ?? undefined;
  if (body !== undefined && typeof body !== "string" && !ArrayBuffer.isView(body)) throw new TypeError("nodeHttpFetch: the body must be a string or bytes");
  const payload = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  if (payload) headers["content-length"] = String(payload.length);
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const request = transport.request(url, { method: init.method ?? "GET", headers, agent: agents[url.protocol as keyof typeof agents] }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        signal?.removeEventListener("abort", abort);
        const status = response.statusCode ?? 0;
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        let data: Buffer = Buffer.concat(chunks);
        const decode = DECODERS[(response.headers["content-encoding"] ?? "").trim().toLowerCase()];
        if (decode) {
          try {
            data = decode(data);
          } catch (error) {
            return reject(error);
          }
          responseHeaders.delete("content-encoding");
          responseHeaders.delete("content-length");
        }
        resolve(new Response(NULL_BODY.has(status) ? null : data, { status, statusText: response.statusMessage, headers: responseHeaders }));
      });
    });
    const abort = () => request.destroy(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
    signal?.addEventListener("abort", abort, { once: true });
    request.on("error", (error) => {
      signal?.removeEventListener("abort", abort);
      reject(error);
    });
    request.end(payload);
  });
};
