// HTTP for the Tinker protocol: JSON POST/GET under /api/v1/, the API key header, retries where they are safe, and
// futures (submit, then retrieve_future until a result, a failure or a time limit). Shared by every client class.
//
// Retries. A submit is retried on connection errors, 408, 429 and 5xx: training requests carry a seq_id, which a
// server deduplicates (SkyRL and the local trainer answer a repeated (model_id, seq_id) with the first request_id),
// so a retry cannot run a step twice. retrieve_future is re-polled at once after try_again or 408 when the server
// held the request (it long-polls), and with a growing pause when it answered quickly or failed to answer.
// The API key is sent as X-API-Key and appears in no error, detail or log.
//
// Waiting. A sample's submit says `Prefer: wait=N` (RFC 7240). The local trainer then answers with the result itself,
// marked `Preference-Applied: wait`, when the work is done within N seconds: a rollout's sample costs one round trip,
// not two. Any other answer is a future's handle and is polled as above. The submit asks for JSON, as the SDK's do
// (a server may not expect protobuf there); a sample result reads faster from JSON anyway (bench/trainer-wire.ts).
//
// Wire. Bodies are JSON, except where a call's `Wire` says otherwise, as the SDK does it: a request already encoded
// (protobuf forward_backward), and results asked for as protobuf (Accept: application/x-protobuf) and decoded into
// their JSON shape (tinker-proto.ts); a server that answers JSON anyway is read as before.
import type { z } from "zod";
import { EvolverError } from "../core/errors.js";
import { trainerError } from "./errors.js";
import { sharedHttpFetch, type PlainRequest } from "../core/http-fetch.js";
import { loadTinkerProto, PROTO_CONTENT_TYPE, type ProtoResult, type TinkerProto } from "./tinker-proto.js";
import { ErrorDetail, FailedFuture, FutureHandle, SampleBatchLine, TryAgain } from "./tinker-schema.js";

export interface TinkerHttpOptions {
  /** Server root, e.g. http://127.0.0.1:8000 (the /api/v1/ prefix is added here). */
  baseUrl: string;
  apiKey?: string;
  /** One HTTP call's limit, except retrieve_future's. Default 60 s. */
  requestTimeoutMs?: number;
  /** One retrieve_future call's limit; servers long-poll up to ~25-45 s. Default 60 s. */
  pollTimeoutMs?: number;
  /** How long a future may take in all. Default 30 min (a large forward_backward on a CPU is slow). */
  futureTimeoutMs?: number;
  /** Attempts after the first for a submit that met a connection error, 408, 429 or 5xx. Default 5. */
  retries?: number;
  /** Default: node:http with keep-alive (core/http-fetch.ts). */
  fetch?: typeof fetch;
}

/** How one slow call travels where it is not JSON both ways. */
export interface Wire {
  /** The request body, already encoded, in place of JSON. */
  raw?: { bytes: Uint8Array; contentType: string; contentEncoding?: string };
  /** Ask for the future's result as protobuf, to be read as this message. */
  accept?: ProtoResult;
  /** Send `Prefer: wait` with the submit (a short call: a sample). The submit's answer stays JSON, as the SDK's is. */
  wait?: boolean;
}

/** An answer read whole; `header` takes a lower-case name. */
interface Exchanged {
  status: number;
  header(name: string): string | undefined;
  body: Uint8Array;
}

/** A body that came as protobuf: bytes until the caller, who knows the message, decodes them. */
class ProtoBody {
  constructor(readonly bytes: Uint8Array) {}
}

interface Answer {
  status: number;
  body: unknown;
  /** The server applied `Prefer: wait`: the body is the future's answer, not its handle. */
  waited?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export class TinkerHttp {
  readonly root: string;
  private readonly apiKey?: string;
  /** The caller's fetch, if one was given; else node:http (core/http-fetch.ts's request). */
  private readonly fetchImpl?: typeof fetch;
  private readonly requestTimeoutMs: number;
  private readonly pollTimeoutMs: number;
  private readonly futureTimeoutMs: number;
  private readonly retries: number;

  constructor(options: TinkerHttpOptions) {
    this.root = `${options.baseUrl.replace(/\/+$/, "")}/api/v1/`;
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.pollTimeoutMs = options.pollTimeoutMs ?? 60_000;
    this.futureTimeoutMs = options.futureTimeoutMs ?? 30 * 60_000;
    this.retries = options.retries ?? 5;
  }

  /** A synchronous call: the result is in the answer. */
  async call<S extends z.ZodType>(path: string, body: unknown, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
    const answer = await this.withRetries(path, body, signal);
    return this.parse(path, this.expectOk(path, answer), schema);
  }

  /**
   * A slow call: submit it, then wait for its future. With `wire.wait` the submit says `Prefer: wait=N`: the local
   * trainer then answers with the result itself (as JSON, the submit's Accept) when the work is done within N seconds,
   * one round trip instead of two; other servers ignore the header and answer with the future, which is then polled.
   */
  async run<S extends z.ZodType>(path: string, body: unknown, schema: S, signal?: AbortSignal, wire: Wire = {}): Promise<z.infer<S>> {
    // loaded before the call: a result asked for as protobuf must be readable when it comes
    const proto = wire.accept ? await loadTinkerProto() : undefined;
    const answer = await this.withRetries(path, wire.raw ?? body, signal, wire.wait);
    if (answer.waited && answer.status === 200) return this.parse(path, this.finished(path, answer.body, wire.accept, proto), schema);
    const handle = this.parse(path, this.expectOk(path, answer), FutureHandle);
    return this.parse(path, await this.awaitFuture(path, handle.request_id, signal, wire.accept, proto), schema);
  }

  /** A future's answer once it is not try_again: the result (decoded from protobuf where asked), or its failure thrown. */
  private finished(path: string, body: unknown, accept: ProtoResult | undefined, proto: TinkerProto | undefined, requestId?: string): unknown {
    if (body instanceof ProtoBody) {
      if (!proto || !accept) throw trainerError("TRAINER_BAD_RESPONSE", `${path}: a protobuf answer that was not asked for`, { details: { requestId } });
      return accept === "SampleResponse" ? proto.decodeSampleResponse(body.bytes) : proto.decodeForwardBackwardOutput(body.bytes);
    }
    const failed = FailedFuture.safeParse(body);
    if (failed.success) {
      throw trainerError("TRAINER_REQUEST_FAILED", `${path} failed on the trainer: ${failed.data.error}`, {
        details: { requestId, category: failed.data.category ?? "unknown" },
      });
    }
    return body;
  }

  private async awaitFuture(path: string, requestId: string, signal?: AbortSignal, accept?: ProtoResult, proto?: TinkerProto): Promise<unknown> {
    const deadline = Date.now() + this.futureTimeoutMs;
    let pause = 50;
    let failures = 0;
    for (;;) {
      if (Date.now() > deadline) {
        throw trainerError("TRAINER_TIMEOUT", `${path}: no result within ${this.futureTimeoutMs} ms`, { details: { requestId } });
      }
      const started = Date.now();
      let answer: Answer | undefined;
      try {
        answer = await this.send("retrieve_future", { request_id: requestId, allow_metadata_only: false }, this.pollTimeoutMs, signal, accept);
        failures = 0;
      } catch (error) {
        if (EvolverError.isInstance(error) && error.code === "TRAINER_ABORTED") throw error;
        if (++failures > this.retries) throw error;
      }
      const tryAgain = answer?.status === 200 && TryAgain.safeParse(answer.body).success;
      if (answer?.status === 200 && !tryAgain) return this.finished(path, answer.body, accept, proto, requestId);
      if (answer && answer.status !== 200 && !retryable(answer.status)) {
        // SkyRL reports a failed request as 400 {detail} on retrieve_future; 404 means the future is unknown
        const detail = describeDetail(answer.body);
        if (answer.status === 400) {
          throw trainerError("TRAINER_REQUEST_FAILED", `${path} failed on the trainer: ${detail}`, { details: { requestId } });
        }
        throw this.statusError(`${path} (retrieve_future)`, answer);
      }
      // the server held the poll (long-poll) or is busy: ask again, pausing only if it answered fast or not at all
      if (!answer || Date.now() - started < 500) {
        await sleep(pause);
        pause = Math.min(pause * 2, 2000);
      } else {
        pause = 50;
      }
    }
  }

  private async withRetries(path: string, body: unknown, signal?: AbortSignal, wait = false): Promise<Answer> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(100 * 2 ** (attempt - 1), 5000));
      try {
        const answer = await this.send(path, body, this.requestTimeoutMs, signal, undefined, wait);
        if (!retryable(answer.status)) return answer;
        lastError = this.statusError(path, answer);
      } catch (error) {
        if (EvolverError.isInstance(error) && error.code === "TRAINER_ABORTED") throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  /**
   * One HTTP exchange. body === undefined means GET; a `Wire["raw"]` body goes as it is. `wait`: ask the server to
   * answer with the result if it is ready within half this call's time limit (at most 25 s, a long-poll's length).
   */
  private async send(path: string, body: unknown, timeoutMs: number, signal?: AbortSignal, accept?: ProtoResult, wait = false): Promise<Answer> {
    const headers = this.headers(accept ? PROTO_CONTENT_TYPE : "application/json", body);
    const waitSeconds = Math.floor(Math.min(timeoutMs / 2, 25_000) / 1000);
    if (wait && waitSeconds > 0) headers.Prefer = `wait=${waitSeconds}`;
    const raw = isRaw(body) ? body : undefined;
    const response = await this.limited(path, timeoutMs, signal, (limit) =>
      this.exchange(this.root + path, {
        method: body === undefined ? "GET" : "POST",
        headers,
        body: raw ? raw.bytes : body === undefined ? undefined : JSON.stringify(body),
        signal: limit,
      }),
    );
    const waited = headers.Prefer !== undefined && /\bwait\b/i.test(response.header("preference-applied") ?? "");
    if ((response.header("content-type") ?? "").includes(PROTO_CONTENT_TYPE)) {
      return { status: response.status, body: new ProtoBody(response.body), waited };
    }
    return { status: response.status, body: readJson(response.body), waited };
  }

  /** Request headers: what the answer should be, the body's type (JSON, or a raw body's own), the API key. */
  private headers(accept: string, body: unknown): Record<string, string> {
    const headers: Record<string, string> = { Accept: accept };
    if (isRaw(body)) {
      headers["Content-Type"] = body.contentType;
      if (body.contentEncoding) headers["Content-Encoding"] = body.contentEncoding;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (this.apiKey) headers["X-API-Key"] = this.apiKey;
    return headers;
  }

  /** `exchange` under the caller's signal and a time limit; a failure to get an answer becomes TRAINER_ABORTED or
   * TRAINER_UNREACHABLE. */
  private async limited<T>(path: string, timeoutMs: number, signal: AbortSignal | undefined, exchange: (limit: AbortSignal) => Promise<T>): Promise<T> {
    // one controller for the caller's signal and the time limit (AbortSignal.any and .timeout cost more per call)
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError"));
    }, timeoutMs);
    const forward = () => controller.abort(signal!.reason);
    signal?.addEventListener("abort", forward, { once: true });
    try {
      if (signal?.aborted) throw signal.reason;
      return await exchange(controller.signal);
    } catch (error) {
      if (signal?.aborted) throw trainerError("TRAINER_ABORTED", `${path}: aborted by the caller`);
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : (error as Error).message;
      throw trainerError("TRAINER_UNREACHABLE", `${path}: cannot reach the trainer at ${this.root} (${reason})`, { cause: error });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    }
  }

  /**
   * asample_batch, Evolver's extension (the local trainer's evolver_features.sample_batch): many asample bodies in one
   * exchange, their answers streamed back a line each as they finish. `settle(i, outcome)` is called once for every
   * body: its result, or the error its own asample would have thrown. Bodies still unanswered when the connection
   * fails, or when the server answers 408, 429 or 5xx, are sent again as a submit is (a sample has no side effect to
   * repeat; its seed makes it the same sample).
   */
  async sampleBatch<S extends z.ZodType>(
    bodies: readonly unknown[],
    schema: S,
    settle: (index: number, outcome: { result: z.infer<S> } | { error: unknown }) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const path = "asample_batch";
    let pending = bodies.map((_, i) => i);
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retries && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(Math.min(100 * 2 ** (attempt - 1), 5000));
      const sent = pending;
      const answered = new Set<number>();
      const onLine = (text: string) => {
        const line = SampleBatchLine.safeParse(readJson(text));
        if (!line.success || sent[line.data.index] === undefined || answered.has(line.data.index)) return;
        answered.add(line.data.index);
        settle(sent[line.data.index], this.lineOutcome(path, line.data, schema));
      };
      const unanswered = () => sent.filter((_, k) => !answered.has(k));
      try {
        const answer = await this.limited(path, this.futureTimeoutMs, signal, async (limit) => {
          const init = { method: "POST", headers: this.headers("application/x-ndjson", {}), body: JSON.stringify({ requests: sent.map((i) => bodies[i]) }), signal: limit };
          if (this.fetchImpl) {
            // the caller's fetch (a test's recorder): the answer read whole, then its lines
            const response = await this.fetchImpl(this.root + path, init);
            const text = await response.text();
            if (response.status === 200) text.split("\n").filter((line) => line.length > 0).forEach(onLine);
            return { status: response.status, body: response.status === 200 ? {} : readJson(text) };
          }
          const response = await sharedHttpFetch.requestLines(this.root + path, init, onLine);
          return { status: response.status, body: readJson(response.body) };
        });
        if (answer.status === 200) {
          pending = unanswered();
          lastError = trainerError("TRAINER_BAD_RESPONSE", `${path}: the answer ended with ${pending.length} of ${sent.length} samples unanswered`);
          break;
        }
        lastError = this.statusError(path, answer);
        if (!retryable(answer.status)) break;
      } catch (error) {
        lastError = error;
        pending = unanswered();
        if (EvolverError.isInstance(error) && error.code === "TRAINER_ABORTED") break;
      }
    }
    for (const index of pending) settle(index, { error: lastError });
  }

  /** One line of asample_batch as the outcome its own asample would have had. */
  private lineOutcome<S extends z.ZodType>(path: string, line: SampleBatchLine, schema: S): { result: z.infer<S> } | { error: unknown } {
    try {
      if (line.status !== undefined) return { error: this.statusError(path, { status: line.status, body: { detail: line.detail } }) };
      return { result: this.parse(path, this.finished(path, line.result ?? line, undefined, undefined), schema) };
    } catch (error) {
      return { error };
    }
  }

  /** One exchange, its answer read whole: through the given fetch, or node:http without web Responses (the default). */
  private async exchange(url: string, init: PlainRequest & { headers: Record<string, string> }): Promise<Exchanged> {
    if (this.fetchImpl) {
      const response = await this.fetchImpl(url, init);
      const body = new Uint8Array(await response.arrayBuffer());
      return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, body };
    }
    const response = await sharedHttpFetch.request(url, init);
    return {
      status: response.status,
      header: (name) => {
        const value = response.headers[name];
        return Array.isArray(value) ? value.join(", ") : value;
      },
      body: response.body,
    };
  }

  async get<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
    const answer = await this.send(path, undefined, this.requestTimeoutMs, signal);
    return this.parse(path, this.expectOk(path, answer), schema);
  }

  private expectOk(path: string, answer: Answer): unknown {
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw this.statusError(path, answer);
  }

  private statusError(path: string, answer: Answer): EvolverError {
    const detail = describeDetail(answer.body);
    const details = { status: answer.status, path };
    if (answer.status === 401 || answer.status === 403) {
      return trainerError("TRAINER_AUTH", `${path}: the trainer refused the API key (${answer.status})`, { details });
    }
    if (answer.status >= 400 && answer.status < 500) {
      return trainerError("TRAINER_BAD_REQUEST", `${path}: ${answer.status} ${detail}`, { details });
    }
    return trainerError("TRAINER_UNREACHABLE", `${path}: the trainer answered ${answer.status} ${detail}`, { details });
  }

  private parse<S extends z.ZodType>(path: string, body: unknown, schema: S): z.infer<S> {
    const result = schema.safeParse(body);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw trainerError("TRAINER_BAD_RESPONSE", `${path}: unexpected answer (${issue.path.join(".") || "body"}: ${issue.message})`, {
        details: { path },
      });
    }
    return result.data;
  }
}

/** A JSON body (bytes or text) parsed; text that is not JSON stays text, for the error message. */
function readJson(body: Uint8Array | string): unknown {
  const text = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  try {
    return text.length > 0 ? JSON.parse(text) : {};
  } catch {
    return text;
  }
}

function isRaw(body: unknown): body is NonNullable<Wire["raw"]> {
  return typeof body === "object" && body !== null && (body as { bytes?: unknown }).bytes instanceof Uint8Array;
}

function describeDetail(body: unknown): string {
  const parsed = ErrorDetail.safeParse(body);
  const detail = parsed.success ? parsed.data.detail : body;
  const text = typeof detail === "string" ? detail : JSON.stringify(detail);
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}
