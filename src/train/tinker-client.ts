// A client of the Tinker training protocol, for the local trainer (trainer/server.py), SkyRL's server or hosted
// Tinker. The shape follows Tinker's SDK: a service client makes training clients (one trainable model each) and
// sampling clients (one set of weights each).
//
//   const tinker = await TinkerClient.connect({ baseUrl: "http://127.0.0.1:8000" });
//   const training = await tinker.createTrainingClient({ baseModel: "tiny", loraRank: 8 });
//   await training.forwardBackward(datums, "cross_entropy");
//   await training.optimStep({ learning_rate: 1e-4 });
//   const sampler = await training.saveWeightsForSampler("step-1");
//   const { tokens, logprobs } = await sampler.sample({ promptTokens, maxTokens: 64 });
import type { z } from "zod";
import type { SampleRequest, SampleResult, TokenSampler } from "../llm/index.js";
import { trainerError } from "./errors.js";
import { TinkerHttp, type TinkerHttpOptions, type Wire } from "./tinker-http.js";
import { loadTinkerProto, PROTO_CONTENT_TYPE, type ForwardBackwardBody } from "./tinker-proto.js";
import { zstdCompress } from "./zstd.js";
import {
  Acknowledgement,
  AdamParams,
  ClientConfig,
  CreateModelResult,
  CreateSamplingSessionResult,
  CreateSessionResult,
  ForwardBackwardOutput,
  GetInfoResult,
  LoadWeightsResult,
  OptimStepResult,
  SampleResult as SampleResultSchema,
  SaveWeightsForSamplerResult,
  SaveWeightsResult,
  ServerCapabilities,
  type Datum,
  type LossFnConfig,
  type LossFnName,
} from "./tinker-schema.js";

export interface TinkerClientOptions extends Partial<TinkerHttpOptions> {
  /** Default: env TINKER_BASE_URL. */
  baseUrl?: string;
  /** Default: env TINKER_API_KEY. Sent as X-API-Key; never logged. */
  apiKey?: string;
  /** Session heartbeat period; 0 turns it off. Default 10 s, as the SDK. */
  heartbeatMs?: number;
  sdkVersion?: string;
  /**
   * "auto" (default) speaks as Tinker's SDK does: sample and forward/forward_backward results are asked for as
   * protobuf, and forward_backward (forward too, with fwd_via_fwdbwd) is sent as protobuf where client/config says
   * proto_write_fwdbwd and the request fits protobuf (evolver_ppo's config, with strings, stays JSON), zstd-compressed
   * where it says proto_compress_fwdbwd. "json": JSON only.
   */
  wire?: "auto" | "json";
  /**
   * Where the server offers it (evolver_features.sample_batch: the local trainer), the sample calls made in one turn
   * of the event loop travel together in one asample_batch exchange, each answered as it finishes; each is sampled as
   * its own asample would be. Default true; false: one asample each.
   */
  sampleBatch?: boolean;
}

export interface TrainingClientOptions {
  /** A name from get_server_capabilities (the local trainer also accepts its model folder). */
  baseModel: string;
  /** 0 = full fine-tuning (local trainer, SkyRL fsdp); default 32. */
  loraRank?: number;
  seed?: number;
  trainMlp?: boolean;
  trainAttn?: boolean;
}

export interface ForwardBackwardResult {
  /** Per datum, in order: each output by name (`logprobs` = the learner's target logprobs, `elementwise_loss`, ...). */
  lossFnOutputs: Record<string, number[]>[];
  /** `name:reduction` keys, e.g. `loss:sum`. */
  metrics: Record<string, number>;
}

export interface SampleManyRequest extends SampleRequest {
  numSamples: number;
  /** -1 = no limit. */
  topK?: number;
  /** Also return the logprob of every prompt token (the first is null). */
  promptLogprobs?: boolean;
}

export interface SampleManyResult {
  sequences: SampleResult[];
  promptLogprobs?: (number | null)[];
}

/** How this client's requests and results travel, from its `wire` option and the server's client/config. */
export interface WireChoice {
  /** Sample and forward/forward_backward results asked for as protobuf. */
  protoResults: boolean;
  /** forward_backward sent as protobuf (where the request fits). */
  protoRequests: boolean;
  /** forward sent as forward_backward with forward_only (with protoRequests). */
  forwardViaForwardBackward: boolean;
  /** protobuf requests zstd-compressed (Content-Encoding: zstd). */
  compress: boolean;
}

export class TinkerClient {
  readonly http: TinkerHttp;
  readonly sessionId: string;
  readonly wire: WireChoice;
  private modelSeqId = 0;
  private samplingSessionSeqId = 0;
  private heartbeat?: NodeJS.Timeout;
  /** The coalescer of this connection's sample calls, once known whether the server takes asample_batch. */
  private coalescer?: Promise<SampleCoalescer | undefined>;

  private constructor(http: TinkerHttp, sessionId: string, wire: WireChoice, private readonly sampleBatch: boolean) {
    this.http = http;
    this.sessionId = sessionId;
    this.wire = wire;
  }

  /** The SDK's startup: client/config, create_session, then a heartbeat in the background. */
  static async connect(options: TinkerClientOptions = {}): Promise<TinkerClient> {
    const baseUrl = options.baseUrl ?? process.env.TINKER_BASE_URL;
    if (!baseUrl) throw trainerError("TRAINER_UNREACHABLE", "no trainer URL: pass baseUrl or set TINKER_BASE_URL");
    const http = new TinkerHttp({ ...options, baseUrl, apiKey: options.apiKey ?? process.env.TINKER_API_KEY });
    const sdkVersion = options.sdkVersion ?? "0.24.1";
    const config = await http.call("client/config", { sdk_version: sdkVersion }, ClientConfig);
    const auto = (options.wire ?? "auto") === "auto";
    const protoRequests = auto && config.proto_write_fwdbwd === true;
    const wire: WireChoice = {
      protoResults: auto,
      protoRequests,
      forwardViaForwardBackward: protoRequests && config.fwd_via_fwdbwd === true,
      compress: protoRequests && config.proto_compress_fwdbwd === true,
    };
    const session = await http.call(
      "create_session",
      { tags: ["evolver"], user_metadata: null, sdk_version: sdkVersion, type: "create_session" },
      CreateSessionResult,
    );
    const client = new TinkerClient(http, session.session_id, wire, options.sampleBatch ?? true);
    const period = options.heartbeatMs ?? 10_000;
    if (period > 0) {
      client.heartbeat = setInterval(() => {
        http.call("session_heartbeat", { session_id: session.session_id, type: "session_heartbeat" }, Acknowledgement).catch(() => {
          // a missed heartbeat is not fatal; the next request will say whether the server is gone
        });
      }, period);
      client.heartbeat.unref();
    }
    return client;
  }

  async capabilities(): Promise<ServerCapabilities> {
    return this.http.get("get_server_capabilities", ServerCapabilities);
  }

  async createTrainingClient(options: TrainingClientOptions): Promise<TrainingClient> {
    const training = new TrainingClient(this, options);
    await training.create();
    return training;
  }

  /** Sampling from saved sampler weights (`tinker://.../sampler_weights/NAME`) or from the base model. */
  async createSamplingClient(target: { modelPath: string } | { baseModel: string }): Promise<SamplingClient> {
    const body = {
      session_id: this.sessionId,
      sampling_session_seq_id: this.samplingSessionSeqId++,
      ...("modelPath" in target ? { model_path: target.modelPath } : { base_model: target.baseModel }),
      type: "create_sampling_session",
    };
    const session = await this.http.call("create_sampling_session", body, CreateSamplingSessionResult);
    const label = "modelPath" in target ? target.modelPath : target.baseModel;
    this.coalescer ??= this.sampleBatch
      ? this.capabilities().then((c) => (c.evolver_features?.sample_batch ? new SampleCoalescer(this.http) : undefined), () => undefined)
      : Promise.resolve(undefined);
    return new SamplingClient(this.http, session.sampling_session_id, label, this.wire.protoResults, await this.coalescer);
  }

  /** @internal the model_seq_id counter of this session. */
  nextModelSeqId(): number {
    return this.modelSeqId++;
  }

  /** Stops the heartbeat; the server keeps the models until it expires the session. */
  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
  }
}

export class TrainingClient {
  private id = "";
  private seqId = 0;
  private lastState?: string;

  constructor(
    private readonly service: TinkerClient,
    readonly options: TrainingClientOptions,
  ) {}

  get modelId(): string {
    return this.id;
  }

  /** The path of the last training state saved or loaded through this client (what `recover` reloads). */
  get lastStatePath(): string | undefined {
    return this.lastState;
  }

  /** @internal create_model; used by TinkerClient.createTrainingClient and recover. */
  async create(): Promise<void> {
    const { baseModel, loraRank = 32, seed, trainMlp = true, trainAttn = true } = this.options;
    const body = {
      session_id: this.service.sessionId,
      model_seq_id: this.service.nextModelSeqId(),
      base_model: baseModel,
      user_metadata: null,
      lora_config: { rank: loraRank, seed: seed ?? null, train_unembed: false, train_mlp: trainMlp, train_attn: trainAttn },
      type: "create_model",
    };
    const created = await this.service.http.run("create_model", body, CreateModelResult);
    this.id = created.model_id;
    this.seqId = 0;
  }

  private nextSeqId(): number {
    this.seqId += 1;
    return this.seqId;
  }

  /** Gradients accumulate on the server until optimStep. */
  async forwardBackward(datums: Datum[], lossFn: LossFnName, config?: LossFnConfig, signal?: AbortSignal): Promise<ForwardBackwardResult> {
    return this.lossCall("forward_backward", "forward_backward_input", datums, lossFn, config, signal);
  }

  /** The same outputs without gradients (learner logprobs of the targets, the loss). */
  async forward(datums: Datum[], lossFn: LossFnName = "cross_entropy", config?: LossFnConfig, signal?: AbortSignal): Promise<ForwardBackwardResult> {
    return this.lossCall("forward", "forward_input", datums, lossFn, config, signal);
  }

  private async lossCall(path: string, key: string, datums: Datum[], lossFn: LossFnName, config: LossFnConfig | undefined, signal?: AbortSignal) {
    const input = { data: datums, loss_fn: lossFn, loss_fn_config: config ?? null };
    const seqId = this.nextSeqId();
    const wire = this.service.wire;
    const forwardOnly = path === "forward";
    let sent: { path: string; body: unknown; wire: Wire } = { path, body: { model_id: this.id, seq_id: seqId, [key]: input }, wire: {} };
    if (wire.protoRequests && (!forwardOnly || wire.forwardViaForwardBackward)) {
      const protoBody: ForwardBackwardBody = { model_id: this.id, seq_id: seqId, forward_backward_input: input };
      const bytes = (await loadTinkerProto()).encodeForwardBackwardRequest(protoBody, forwardOnly);
      // undefined: protobuf cannot carry this request (a loss config with strings), so it goes as JSON, as the SDK does
      if (bytes) {
        const raw = wire.compress
          ? { bytes: await zstdCompress(bytes), contentType: PROTO_CONTENT_TYPE, contentEncoding: "zstd" }
          : { bytes, contentType: PROTO_CONTENT_TYPE };
        sent = { path: "forward_backward", body: protoBody, wire: { raw } };
      }
    }
    if (wire.protoResults) sent.wire.accept = "ForwardBackwardOutput";
    const output = await this.service.http.run(sent.path, sent.body, ForwardBackwardOutput, signal, sent.wire);
    return {
      lossFnOutputs: output.loss_fn_outputs.map((record) => Object.fromEntries(Object.entries(record).map(([name, tensor]) => [name, tensor.data]))),
      metrics: output.metrics,
    };
  }

  /** One AdamW step with these hyper-parameters (missing ones take Tinker's defaults), then the gradients are cleared. */
  async optimStep(adamParams: Partial<AdamParams> = {}, signal?: AbortSignal): Promise<{ metrics: Record<string, number> }> {
    const parsed = AdamParams.safeParse(adamParams);
    if (!parsed.success) {
      throw trainerError("TRAINER_BAD_REQUEST", `bad adam params: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    const body = { model_id: this.id, seq_id: this.nextSeqId(), adam_params: parsed.data, type: "optim_step" };
    const result = await this.service.http.run("optim_step", body, OptimStepResult, signal);
    return { metrics: result.metrics ?? {} };
  }

  /** Saves weights and optimizer state as `tinker://<model>/weights/<name>`; returns that path. */
  async saveWeights(name: string, options: { overwrite?: boolean } = {}): Promise<string> {
    const body = { model_id: this.id, path: name, seq_id: this.nextSeqId(), overwrite: options.overwrite ?? false, type: "save_weights" };
    const saved = await this.service.http.run("save_weights", body, SaveWeightsResult);
    this.lastState = saved.path;
    return saved.path;
  }

  /** Loads a training state saved by saveWeights (by this model or another of the same shape). */
  async loadWeights(path: string, options: { optimizer?: boolean } = {}): Promise<void> {
    const body = { model_id: this.id, path, optimizer: options.optimizer ?? true, seq_id: this.nextSeqId(), type: "load_weights" };
    await this.service.http.run("load_weights", body, LoadWeightsResult);
    this.lastState = path;
  }

  /** Snapshots the current weights for sampling and returns a client that samples from them. */
  async saveWeightsForSampler(name: string): Promise<SamplingClient> {
    const body = { model_id: this.id, path: name, seq_id: this.nextSeqId(), type: "save_weights_for_sampler" };
    const saved = await this.service.http.run("save_weights_for_sampler", body, SaveWeightsForSamplerResult);
    if (!saved.path) throw trainerError("TRAINER_BAD_RESPONSE", "save_weights_for_sampler: the answer has no path");
    return this.service.createSamplingClient({ modelPath: saved.path });
  }

  async getInfo(): Promise<GetInfoResult> {
    return this.service.http.call("get_info", { model_id: this.id, type: "get_info" }, GetInfoResult);
  }

  /**
   * After the trainer lost this model (a restart): creates it again and loads `path` (default: the last state saved
   * or loaded here), optimizer included. The model id changes; seq ids start over.
   */
  async recover(path: string | undefined = this.lastState): Promise<void> {
    if (!path) throw trainerError("TRAINER_NO_CHECKPOINT", `model ${this.id} has no saved training state to recover from`);
    await this.create();
    await this.loadWeights(path, { optimizer: true });
  }
}

/**
 * Samples token ids from one set of weights. Implements TokenSampler (one sample per call).
 * `logprobs` of the local trainer are the model's own log-probabilities of the sampled tokens at temperature 1
 * (before temperature, top-k or top-p), i.e. what a `forward` of the same weights gives; other servers decide for
 * themselves.
 */
export class SamplingClient implements TokenSampler {
  readonly id: string;
  readonly logprobsAt = "temperature-1" as const;
  private seqId = 0;

  constructor(
    private readonly http: TinkerHttp,
    readonly samplingSessionId: string,
    /** The sampler path or base model this client samples from. */
    readonly source: string,
    /** Ask for results as protobuf (TinkerClientOptions.wire). */
    private readonly protoResults = false,
    /** Sends the calls through asample_batch (TinkerClientOptions.sampleBatch). */
    private readonly coalescer?: SampleCoalescer,
  ) {
    this.id = `tinker:${source}`;
  }

  async sample(request: SampleRequest): Promise<SampleResult> {
    return (await this.sampleMany({ ...request, numSamples: 1 })).sequences[0];
  }

  /** `numSamples` continuations of one prompt; sample i uses seed + i. */
  async sampleMany(request: SampleManyRequest): Promise<SampleManyResult> {
    const body = {
      sampling_session_id: this.samplingSessionId,
      seq_id: this.seqId++,
      num_samples: request.numSamples,
      prompt: { chunks: [{ type: "encoded_text", tokens: request.promptTokens }] },
      sampling_params: {
        max_tokens: request.maxTokens,
        seed: request.seed ?? null,
        stop: request.stopTokens ?? null,
        temperature: request.temperature ?? 1,
        top_k: request.topK ?? -1,
        top_p: request.topP ?? 1,
      },
      prompt_logprobs: request.promptLogprobs ?? false,
      topk_prompt_logprobs: 0,
      type: "sample",
    };
    const wire = { wait: true, ...(this.protoResults ? { accept: "SampleResponse" as const } : {}) };
    const result = this.coalescer
      ? await this.coalescer.sample(body, request.signal)
      : await this.http.run("asample", body, SampleResultSchema, request.signal, wire);
    return {
      sequences: result.sequences.map((s) => ({ tokens: s.tokens, logprobs: s.logprobs ?? [], stopReason: s.stop_reason })),
      ...(result.prompt_logprobs ? { promptLogprobs: result.prompt_logprobs } : {}),
    };
  }
}

type SampleResultBody = z.infer<typeof SampleResultSchema>;

interface PendingSample {
  body: unknown;
  signal?: AbortSignal;
  resolve(result: SampleResultBody): void;
  reject(error: unknown): void;
}

/**
 * Gathers the sample calls made in one turn of the event loop into one asample_batch exchange. A rollout batch's
 * step makes its calls together (each rollout's comes as its last answer and observation are read, in the same turn),
 * and each HTTP exchange costs this process and the trainer's a few hundred microseconds of CPU: more, on the quick
 * start, than a one-token sample's share of the batched forward step. A call aborted by its signal rejects at once;
 * the server still samples it, and its answer is dropped.
 */
export class SampleCoalescer {
  private queued: PendingSample[] = [];

  constructor(private readonly http: TinkerHttp) {}

  sample(body: unknown, signal?: AbortSignal): Promise<SampleResultBody> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(trainerError("TRAINER_ABORTED", "asample: aborted by the caller"));
      this.queued.push({ body, signal, resolve, reject });
      // setImmediate runs after this turn's I/O callbacks and their promise continuations: every rollout whose answer
      // came in this turn has made its next call by then
      if (this.queued.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queued;
    this.queued = [];
    const settled = new Array<boolean>(batch.length).fill(false);
    const settle = (index: number, outcome: { result: SampleResultBody } | { error: unknown }) => {
      if (settled[index]) return;
      settled[index] = true;
      if ("result" in outcome) batch[index].resolve(outcome.result);
      else batch[index].reject(outcome.error);
    };
    const listeners = batch.map((pending, index) => {
      const abort = () => settle(index, { error: trainerError("TRAINER_ABORTED", "asample: aborted by the caller") });
      pending.signal?.addEventListener("abort", abort, { once: true });
      return abort;
    });
    try {
      // the exchange runs to its end even when every call in it was aborted: the trainer samples them anyway
      await this.http.sampleBatch(batch.map((p) => p.body), SampleResultSchema, settle);
    } finally {
      batch.forEach((pending, index) => pending.signal?.removeEventListener("abort", listeners[index]));
    }
  }
}
