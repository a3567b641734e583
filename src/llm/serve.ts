// An LlmProvider (usually the embedded model) behind an OpenAI-compatible HTTP endpoint, on plain node:http:
//   POST /v1/chat/completions   chat with tools and tool_choice, n choices, logprobs and top_logprobs, JSON-schema
//                               output, streaming (serve-stream.ts), token-id extensions (serve-schema.ts)
//   GET  /v1/models             the one served model
//   GET  /health                {"status": "ok"}
// Errors reach the wire only through `sendError`, as OpenAI-shaped JSON ({"error": {message, type, code}}).
// Binds 127.0.0.1 by default. An API key, when set, is required as a Bearer token.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { timingSafeEqual } from "node:crypto";
import { EvolverError } from "../core/errors.js";
import { ChatCompletionBody, toChatRequest, toWireResponse, type TokenSpeller } from "./serve-schema.js";
import { ChatCompletionStream } from "./serve-stream.js";
import type { LlmErrorCode } from "./errors.js";
import type { LlmProvider } from "./types.js";

export interface ModelServerOptions {
  provider: LlmProvider;
  /** The name clients put in `model`; requests naming another model get 404. Default: the provider id. */
  servedModelName?: string;
  host?: string;
  /** 0 picks a free port. Default 8000. */
  port?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /**
   * Text of one token, for logprobs entries. Default: the provider's `tokenInfo` (which also gives the exact bytes);
   * without either, tokens are spelled "token_id:<id>".
   */
  tokenText?: (id: number) => string;
  maxBodyBytes?: number;
}

export interface ModelServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const statusByCode: Partial<Record<LlmErrorCode, number>> = {
  LLM_BAD_REQUEST: 400,
  LLM_CONTEXT_OVERFLOW: 400,
  LLM_AUTH: 401,
  LLM_MODEL_NOT_FOUND: 404,
  LLM_BAD_JSON: 500,
  LLM_UNAVAILABLE: 503,
  LLM_TIMEOUT: 504,
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function errorBody(error: unknown): { status: number; message: string; type: string; code: string } {
  let status = 500;
  let code = "internal_error";
  let message = "internal error";
  if (error instanceof HttpError) [status, code, message] = [error.status, error.code, error.message];
  else if (EvolverError.isInstance(error)) [status, code, message] = [statusByCode[error.code as LlmErrorCode] ?? 500, error.code, error.message];
  const type = status === 401 ? "authentication_error" : status < 500 ? "invalid_request_error" : "server_error";
  return { status, message, type, code };
}

function sendError(response: ServerResponse, error: unknown): void {
  const { status, ...body } = errorBody(error);
  if (!response.headersSent) sendJson(response, status, { error: { ...body, param: null } });
  else response.destroy();
}

async function readBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "body_too_large", `request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "invalid_json", "request body is not valid JSON");
  }
}

function checkKey(request: IncomingMessage, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const given = Buffer.from(/^Bearer (.*)$/.exec(request.headers.authorization ?? "")?.[1] ?? "");
  const expected = Buffer.from(apiKey);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError(401, "invalid_api_key", "missing or wrong API key");
  }
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const { provider, apiKey, tokenText } = options;
  const modelName = options.servedModelName ?? provider.id;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  let counter = 0;

  async function chatCompletions(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const parsed = ChatCompletionBody.safeParse(await readBody(request, maxBodyBytes));
    if (!parsed.success) {
      throw new HttpError(400, "invalid_request", `bad request body: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`);
    }
    const body = parsed.data;
    if (body.model !== undefined && body.model !== modelName && body.model !== provider.id) {
      throw new HttpError(404, "model_not_found", `The model '${body.model}' does not exist; this server serves '${modelName}'`);
    }
    const abort = new AbortController();
    response.on("close", () => {
      if (!response.writableFinished) abort.abort(new Error("client went away"));
    });
    const id = `chatcmpl-${++counter}`;
    const spell = speller(body.return_tokens_as_token_ids === true);
    // Choice i samples with seed + i, so that n choices differ and each is reproducible on its own.
    const requests = Array.from({ length: body.n ?? 1 }, (_, i) => {
      const request = toChatRequest(body, abort.signal);
      if (request.seed !== undefined) request.seed += i;
      return request;
    });
    if (!body.stream) {
      const completions = await Promise.all(requests.map((request) => provider.chat(request))).catch((error) => {
        abort.abort(error); // the other choices are of no use now
        throw error;
      });
      return sendJson(response, 200, toWireResponse(completions, body, { id, model: modelName, spell }));
    }
    const stream = new ChatCompletionStream(response, body, { id, model: modelName, spell, toolCallSyntax: provider.toolCallSyntax });
    try {
      const completions = await Promise.all(
        requests.map(async (request, index) => {
          const choice = stream.choice(index);
          const completion = await provider.chat({ ...request, onDelta: choice.onDelta });
          choice.finish(completion);
          return completion;
        }),
      );
      stream.end(completions);
    } catch (error) {
      abort.abort(error);
      if (!stream.started) throw error;
      const { message, type, code } = errorBody(error);
      stream.fail({ message, type, code });
    }
  }

  function speller(asIds: boolean): TokenSpeller {
    const utf8 = (text: string) => Buffer.from(text, "utf8");
    if (asIds || (!tokenText && !provider.tokenInfo)) return (id) => ({ text: `token_id:${id}`, bytes: utf8(`token_id:${id}`) });
    return (id) => {
      const info = provider.tokenInfo?.(id);
      const text = tokenText ? tokenText(id) : info!.text;
      return { text, bytes: info?.bytes ?? utf8(text) };
    };
  }

  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const handle = async () => {
      if (path === "/health" && request.method === "GET") return sendJson(response, 200, { status: "ok", model: modelName });
      checkKey(request, apiKey);
      if (path === "/v1/models" && request.method === "GET") {
        return sendJson(response, 200, { object: "list", data: [{ id: modelName, object: "model", created: 0, owned_by: "evolver" }] });
      }
      if (path === "/v1/chat/completions") {
        if (request.method !== "POST") throw new HttpError(405, "method_not_allowed", "use POST");
        return chatCompletions(request, response);
      }
      throw new HttpError(404, "not_found", `no route ${request.method} ${path}`);
    };
    handle().catch((error) => sendError(response, error));
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8000, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

