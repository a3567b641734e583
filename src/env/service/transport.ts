// POSTs JSON to an environment service over keep-alive connections (node:http with one Agent: lighter per call
// than fetch). Connection failures are retried only where that cannot run a call twice: always when the
// connection was refused, or when a reused keep-alive socket was reset before any answer (the server had closed
// it as idle, Node's documented case); any other failure only for idempotent calls.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { EvolverError } from "../../core/errors.js";
import { ResponseEnvelope } from "./schema.js";

export interface TransportOptions {
  url: string;
  timeoutMs: number;
  /** Extra attempts after the first, for failures that may be retried. */
  retries: number;
}

interface Attempt {
  status: number;
  text: string;
}

class ConnectionFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    /** True when the server cannot have run the call. */
    readonly unsent: boolean,
  ) {
    super(message);
  }
}

export class JsonTransport {
  private readonly base: URL;
  private readonly basePath: string;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;

  constructor(private readonly options: TransportOptions) {
    this.base = new URL(options.url);
    this.basePath = this.base.pathname.replace(/\/+$/, "");
    const https = this.base.protocol === "https:";
    // Idle sockets are dropped before the server's keep-alive timeout (ours: 65 s, uvicorn: 5 s) would race us.
    this.agent = https ? new HttpsAgent({ keepAlive: true, timeout: 4_000 }) : new HttpAgent({ keepAlive: true, timeout: 4_000 });
    this.send = https ? httpsRequest : httpRequest;
  }

  /** POSTs `body` to `path` and returns the parsed `{success, data}` envelope; HTTP errors become ENV_REMOTE_ERROR. */
  async post(path: string, body: unknown, idempotent: boolean): Promise<ResponseEnvelope> {
    const text = JSON.stringify(body);
    let failure: ConnectionFailure | undefined;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(2_000, 50 * 2 ** attempt));
      try {
        return this.read(path, await this.attempt(path, text));
      } catch (error) {
        if (!(error instanceof ConnectionFailure)) throw error;
        failure = error;
        if (!idempotent && !error.unsent) break;
      }
    }
    throw new EvolverError("ENV_UNREACHABLE", `env service at ${this.options.url} unreachable on ${path}: ${failure?.message}`, {
      details: { url: this.options.url, path, code: failure?.code },
      cause: failure,
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private attempt(path: string, text: string): Promise<Attempt> {
    return new Promise((resolve, reject) => {
      const request = this.send(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path: this.basePath + path,
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) },
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            clearTimeout(timer);
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
          });
          response.on("error", (error) => fail(error, false));
        },
      );
      const fail = (error: NodeJS.ErrnoException, answered: boolean) => {
        clearTimeout(timer);
        const code = error.code ?? "EUNKNOWN";
        const unsent = !answered && (code === "ECONNREFUSED" || (request.reusedSocket && code === "ECONNRESET"));
        reject(new ConnectionFailure(`${code === "ETIMEDOUT" ? error.message : `${code} ${error.message}`}`, code, unsent));
      };
      const timer = setTimeout(() => {
        const timeout: NodeJS.ErrnoException = new Error(`no answer within ${this.options.timeoutMs} ms`);
        timeout.code = "ETIMEDOUT";
        request.destroy(timeout);
      }, this.options.timeoutMs);
      request.on("error", (error) => fail(error, false));
      request.end(text);
    });
  }

  private read(path: string, { status, text }: Attempt): ResponseEnvelope {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const envelope = ResponseEnvelope.safeParse(json);
    if (status >= 200 && status < 300 && envelope.success) return envelope.data;
    const remote = envelope.success ? envelope.data : undefined;
    const detail = remote?.error?.message ?? (typeof remote?.detail === "string" ? remote.detail : undefined) ?? text.slice(0, 500);
    const what = status >= 200 && status < 300 ? "answered with a body that is not a JSON object" : `answered ${status}`;
    throw new EvolverError("ENV_REMOTE_ERROR", `env service ${path} ${what}: ${detail}`, {
      details: { url: this.options.url, path, status, remoteCode: remote?.error?.code },
    });
  }
}
