// One fetch over node:http(s) with keep-alive agents, for the two clients that make hundreds of calls per iteration:
// the Tinker client (a request per sampled step, two where the server answers with a future to poll) and the OpenAI SDK (64 rollouts
// whose answers arrive together). Node's built-in fetch (undici) spends several times the CPU of node:http per call
// (web streams, request cloning, a timer per request): in profiles that was most of the evolve loop's own CPU and
// the longest event-loop block of a rollout batch. Bodies sent as text or bytes go this way; anything else (streams,
// form data, a Request object) goes to the global fetch. Answers are read whole and decoded as fetch would, except
// event streams, which are passed on as they arrive.
// `request` is the same exchange without fetch's shape: the answer read whole into a Buffer, no web Response and no
// web streams, which cost the Tinker client more CPU per sample than the HTTP exchange itself.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

export interface HttpFetch {
  fetch: typeof globalThis.fetch;
  /**
   * One exchange with the answer read whole, without building a web Response: for a client that makes hundreds of
   * small calls (the Tinker client's samples), where Response and its streams cost more CPU than the HTTP itself.
   * An abort rejects with the signal's reason, as fetch's does.
   */
  request(url: string, init: PlainRequest): Promise<PlainResponse>;
  /**
   * As `request`, but a 200 answer's body is passed on line by line as it comes (newline-delimited JSON streamed by
   * the server): `onLine` gets each line without its newline, and the answer's `body` is empty. Any other status is
   * read whole, as `request` reads it.
   */
  requestLines(url: string, init: PlainRequest, onLine: (line: string) => void): Promise<PlainResponse>;
  /** Closes the idle keep-alive connections. */
  close(): void;
}

export interface PlainRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

export interface PlainResponse {
  status: number;
  /** Lower-case names. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** What fetch would decode (no Accept-Encoding is sent, so a server should not compress; some do anyway). */
const DECODERS: Record<string, (data: Buffer) => Buffer> = { gzip: gunzipSync, "x-gzip": gunzipSync, deflate: inflateSync, br: brotliDecompressSync };

/** An answer whose head has come: its body is read whole (`read`) or passed on as a stream (`stream`). */
interface Head {
  response: IncomingMessage;
  /** The body, decoded as fetch would; resolves once it has all come. */
  read(): Promise<Buffer>;
  /** Ends the abort listening once a streamed body has ended. */
  streamed(): void;
  /** The body as text lines, each passed on as it completes; resolves once it has all come. */
  lines(onLine: (line: string) => void): Promise<void>;
}

export function createHttpFetch(): HttpFetch {
  // No socket limit: every Tinker sample in flight holds one connection in its long-poll (retrieve_future), and a
  // limit below the number in flight would queue the very requests that complete those futures. Idle sockets are
  // dropped after 4 s, before a server's keep-alive timeout (uvicorn: 5 s) could race a reuse; the agent's timeout
  // destroys only free sockets, never one a long-poll is waiting on.
  const httpAgent = new HttpAgent({ keepAlive: true, timeout: 4_000 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, timeout: 4_000 });

  const exchange = (url: URL, method: string, headers: OutgoingHttpHeaders, body: string | Uint8Array | undefined,
    signal: AbortSignal | undefined, retryReset: boolean): Promise<Head> =>
    new Promise((resolve, reject) => {
      // Like fetch: an abort rejects with the signal's reason (an AbortError DOMException unless the caller gave one).
      if (signal?.aborted) return reject(signal.reason);
      const https = url.protocol === "https:";
      if (body !== undefined) headers["content-length"] = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
      let failBody: ((error: unknown) => void) | undefined;
      const abort = () => {
        request.destroy();
        reject(signal!.reason);
        failBody?.(signal!.reason);
      };
      const request = (https ? httpsRequest : httpRequest)(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: url.port,
          path: url.pathname + url.search,
          method,
          headers,
          agent: https ? httpsAgent : httpAgent,
        },
        (response: IncomingMessage) => {
          const done = () => signal?.removeEventListener("abort", abort);
          resolve({
            response,
            streamed: () => response.on("close", done),
            lines: (onLine) =>
              new Promise<void>((resolveBody, rejectBody) => {
                failBody = rejectBody;
                let rest = "";
                let ended = false;
                response.setEncoding("utf8");
                response.on("data", (chunk: string) => {
                  const parts = (rest + chunk).split("\n");
                  rest = parts.pop()!;
                  for (const line of parts) if (line.length > 0) onLine(line);
                });
                response.on("error", rejectBody);
                response.on("end", () => {
                  ended = true;
                  done();
                  if (rest.length > 0) onLine(rest);
                  resolveBody();
                });
                // a connection that closes before the end (the server went away) fails the body, not hangs it
                response.on("close", () => {
                  if (!ended) rejectBody(Object.assign(new Error("the connection closed before the answer ended"), { code: "ECONNRESET" }));
                });
              }),
            read: () =>
              new Promise<Buffer>((resolveBody, rejectBody) => {
                failBody = rejectBody;
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("error", rejectBody);
                response.on("end", () => {
                  done();
                  let data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
                  const decode = DECODERS[(response.headers["content-encoding"] ?? "").trim().toLowerCase()];
                  if (decode) {
                    try {
                      data = decode(data);
                    } catch (error) {
                      return rejectBody(error);
                    }
                  }
                  resolveBody(data);
                });
              }),
          });
        },
      );
      signal?.addEventListener("abort", abort, { once: true });
      request.on("error", (error: NodeJS.ErrnoException) => {
        signal?.removeEventListener("abort", abort);
        // A reused keep-alive socket the server had closed fails before anything was sent (Node's documented case):
        // once, the call goes again on a fresh connection.
        if (retryReset && request.reusedSocket && error.code === "ECONNRESET" && !signal?.aborted) {
          resolve(exchange(url, method, headers, body, signal, false));
        } else reject(error);
      });
      request.end(body);
    });

  const viaFetch = async (url: URL, init: RequestInit, body: string | Uint8Array | undefined): Promise<Response> => {
    const headers: OutgoingHttpHeaders = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    const { response, read, streamed } = await exchange(url, init.method ?? "GET", headers, body, init.signal ?? undefined, true);
    const status = response.statusCode ?? 0;
    const responseHeaders = new Headers();
    for (let i = 0; i < response.rawHeaders.length; i += 2) responseHeaders.append(response.rawHeaders[i], response.rawHeaders[i + 1]);
    const head = { status, statusText: response.statusMessage ?? "", headers: responseHeaders };
    if (NULL_BODY_STATUS.has(status)) {
      streamed();
      response.resume();
      return new Response(null, head);
    }
    if (/^text\/event-stream/i.test(response.headers["content-type"] ?? "")) {
      streamed();
      return new Response(Readable.toWeb(response) as ReadableStream<Uint8Array>, head);
    }
    const data = await read();
    if (DECODERS[(response.headers["content-encoding"] ?? "").trim().toLowerCase()]) {
      responseHeaders.delete("content-encoding");
      responseHeaders.delete("content-length");
    }
    return new Response(data, head);
  };

  const fetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    const plain = body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array;
    if (input instanceof Request || !plain) return globalThis.fetch(input, init);
    const url = input instanceof URL ? input : new URL(input);
    if (url.protocol !== "http:" && url.protocol !== "https:") return globalThis.fetch(input, init);
    return viaFetch(url, init, body ?? undefined);
  };

  const request = async (url: string, init: PlainRequest): Promise<PlainResponse> => {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
    const { response, read } = await exchange(new URL(url), init.method ?? "GET", headers, init.body, init.signal, true);
    const body = await read();
    if (DECODERS[(response.headers["content-encoding"] ?? "").trim().toLowerCase()]) delete response.headers["content-encoding"];
    return { status: response.statusCode ?? 0, headers: response.headers, body };
  };

  const requestLines = async (url: string, init: PlainRequest, onLine: (line: string) => void): Promise<PlainResponse> => {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
    const { response, read, lines } = await exchange(new URL(url), init.method ?? "POST", headers, init.body, init.signal, true);
    if (response.statusCode !== 200) return { status: response.statusCode ?? 0, headers: response.headers, body: await read() };
    await lines(onLine);
    return { status: 200, headers: response.headers, body: Buffer.alloc(0) };
  };

  return {
    fetch: fetch as typeof globalThis.fetch,
    request,
    requestLines,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** One process-wide instance for clients that are not closed explicitly (the Tinker client); its idle sockets do
 *  not keep the process alive. */
export const sharedHttpFetch: HttpFetch = createHttpFetch();
