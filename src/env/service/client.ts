// An Environment whose instances live in an environment service: ours (`evolver env serve`) or AgentEvolver's
// (AppWorld, BFCL), both speaking the protocol of docs/env-service.md. Failures are EvolverErrors:
// ENV_UNREACHABLE when no answer came, ENV_REMOTE_ERROR when the service answered with an error, ENV_UNKNOWN_SPLIT
// when a split is not one the service offers (the message names those it does).
// AgentEvolver's services differ from ours in three ways this client follows (see `agentEvolverDefaults`): they
// read the action from the assistant's text, name their splits their own way (BFCL's offers `train` and `val` only,
// so our `test` reads its `val` unless `splits` says otherwise), and have no /describe.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage } from "../../core/messages.js";
import { ActionFormat, type EnvCapabilities, type EnvInstance, type EnvProfile, type Environment, type Evaluation, type InitialState, type Split, type StepResult } from "../types.js";
import { CreateData, DescribeData, EvaluateData, StepData, TaskIdsData } from "./schema.js";
import { JsonTransport } from "./transport.js";

/**
 * AgentEvolver's environment types (modelscope/AgentEvolver @a5a8db8) and how their services differ from ours: all
 * read text actions; their splits are named their own way. bfcl: bfcl_dataprocess.py writes `train` and `val`, and
 * AgentEvolver validates on `val`. appworld: AppWorld's `train`, `dev`, `test_normal`, `test_challenge`, validating
 * on `dev` (or `test_normal`). webshop has no environment in env_service at that commit; its trainer's rule
 * (validate on `val`, else `dev`) is assumed.
 */
export const agentEvolverDefaults: Record<string, { action_format: ActionFormat; splits: Partial<Record<Split, string>> }> = {
  bfcl: { action_format: "text", splits: { test: "val" } },
  appworld: { action_format: "text", splits: { val: "dev", test: "test_normal" } },
  webshop: { action_format: "text", splits: { test: "val" } },
};

const ServiceSplitName = z.string().min(1, "a split name must not be empty");

export const RemoteEnvironmentOptions = z.strictObject({
  /** Base URL of the service, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  url: z.url({ protocol: /^https?$/, error: "url must be an http(s) URL" }),
  /** The environment type the service should run, e.g. "bfcl-v3" (ours) or "appworld" (AgentEvolver's). */
  envType: z.string().min(1, "envType must not be empty"),
  /** Per call; creating an instance can be slow on AgentEvolver's servers. */
  timeoutMs: z.number().positive().default(120_000),
  retries: z.number().int().min(0).default(2),
  /**
   * How the service reads an action: "tool_calls" (ours) or "text", the assistant's text exactly as sampled
   * (AgentEvolver's: Qwen <tool_call> blocks for bfcl, code for appworld). Default: "text" for AgentEvolver's types.
   */
  action_format: ActionFormat.optional(),
  /**
   * The service's name for each of our splits (train, val, test). Default: the same name, except for AgentEvolver's
   * types (`agentEvolverDefaults`: bfcl reads `test` from `val`; appworld `val` from `dev`, `test` from `test_normal`).
   */
  splits: z.strictObject({ train: ServiceSplitName.optional(), val: ServiceSplitName.optional(), test: ServiceSplitName.optional() }).optional(),
});
export type RemoteEnvironmentOptions = z.input<typeof RemoteEnvironmentOptions>;

/** Split names probed when a split is refused, to say which ones the service offers. */
const probedSplits = ["train", "val", "test", "dev", "validation", "test_normal", "test_challenge"];

export class RemoteEnvironment implements Environment {
  readonly name: string;
  readonly url: string;
  readonly actionFormat: ActionFormat;
  private readonly splitNames: Record<Split, string>;
  private readonly transport: JsonTransport;

  constructor(options: RemoteEnvironmentOptions) {
    const parsed = RemoteEnvironmentOptions.safeParse(options);
    if (!parsed.success) {
      throw new EvolverError("ENV_BAD_OPTIONS", `remote environment options: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    }
    this.name = parsed.data.envType;
    this.url = parsed.data.url;
    const defaults = agentEvolverDefaults[this.name];
    this.actionFormat = parsed.data.action_format ?? defaults?.action_format ?? "tool_calls";
    this.splitNames = { train: "train", val: "val", test: "test", ...defaults?.splits, ...parsed.data.splits };
    this.transport = new JsonTransport({ url: parsed.data.url, timeoutMs: parsed.data.timeoutMs, retries: parsed.data.retries });
  }

  /** The service's split for ours (`splits` option); an unknown one is ENV_UNKNOWN_SPLIT naming those offered. */
  async listTasks(split: Split): Promise<string[]> {
    const serviceSplit = this.splitNames[split];
    try {
      return await this.call("/get_env_profile", TaskIdsData, { params: { split: serviceSplit } }, true);
    } catch (error) {
      if (!EvolverError.isInstance(error) || error.code !== "ENV_REMOTE_ERROR") throw error;
      // Only a refusal that other splits do not get is about the split (an unknown envType fails for every split).
      const offered = await this.offeredSplits();
      if (offered.length === 0 || offered.includes(serviceSplit)) throw error;
      const mapped = serviceSplit === split ? `'${split}'` : `'${split}' (read as the service's '${serviceSplit}')`;
      throw new EvolverError(
        "ENV_UNKNOWN_SPLIT",
        `env service ${this.url} (${this.name}) has no split ${mapped}; it offers ${offered.join(", ")}. ` +
          "Choose one of those, or map ours to one with env.options.splits (e.g. {\"test\": \"val\"})",
        { details: { split, serviceSplit, offered } },
      );
    }
  }

  /** The splits among the usual names that the service answers for (AgentEvolver's answers 500 for others). */
  async offeredSplits(): Promise<string[]> {
    const answers = await Promise.all(
      probedSplits.map((split) => this.call("/get_env_profile", TaskIdsData, { params: { split } }, true).then(() => true, () => false)),
    );
    return probedSplits.filter((_, i) => answers[i]);
  }

  /** AgentEvolver's services have no /describe (their profiles are JSON files): a bare profile then. */
  async profile(): Promise<EnvProfile> {
    try {
      return await this.call("/describe", DescribeData, {}, true);
    } catch (error) {
      if (!EvolverError.isInstance(error) || error.details.status !== 404) throw error;
      return { name: this.name, description: `served at ${this.url}, which has no /describe`, entities: [], taskPreferences: { numEntities: 1, numOperations: 1, relationDifficulty: 1, notes: "" } };
    }
  }

  /** As the service answers on /describe (ours does); a service without /describe (AgentEvolver's: 404) can do none. */
  async capabilities(): Promise<EnvCapabilities> {
    try {
      const envelope = await this.post("/describe", {}, true);
      return { stepRewards: envelope.capabilities?.step_rewards === true, decodesCalls: envelope.capabilities?.decodes_calls === true };
    } catch (error) {
      if (EvolverError.isInstance(error) && error.code === "ENV_REMOTE_ERROR" && error.details.status === 404) return { stepRewards: false, decodesCalls: false };
      throw error;
    }
  }

  async create(taskId: string, params: Record<string, unknown> = {}): Promise<EnvInstance> {
    // The id is ours, so a retry after a refused connection cannot create a second instance under another id.
    const instanceId = randomUUID();
    const data = await this.call("/create", CreateData, { task_id: taskId, instance_id: instanceId, params }, false);
    const remoteId = typeof data.info.instance_id === "string" ? data.info.instance_id : instanceId;
    const initial: InitialState = { messages: data.state, tools: data.tools ?? [], info: data.info };
    return new RemoteInstance(this, remoteId, taskId, initial);
  }

  async close(): Promise<void> {
    this.transport.close();
  }

  /** Sends AgentEvolver's full request shape, `{env_type, task_id, instance_id, messages, params}`. */
  async post(path: string, fields: Record<string, unknown>, idempotent: boolean) {
    const body = { env_type: this.name, task_id: null, instance_id: null, messages: {}, params: {}, ...fields };
    const envelope = await this.transport.post(path, body, idempotent);
    if (envelope.success === false && path !== "/release") {
      throw new EvolverError("ENV_REMOTE_ERROR", `env service ${path} answered success: false`, { details: { url: this.url, path } });
    }
    return envelope;
  }

  async call<T extends z.ZodType>(path: string, schema: T, fields: Record<string, unknown>, idempotent: boolean): Promise<z.infer<T>> {
    const envelope = await this.post(path, fields, idempotent);
    return parseData(schema, envelope.data, path, this.url);
  }
}

class RemoteInstance implements EnvInstance {
  constructor(
    private readonly environment: RemoteEnvironment,
    readonly instanceId: string,
    readonly taskId: string,
    readonly initial: InitialState,
  ) {}

  async step(action: ChatMessage): Promise<StepResult> {
    const data = await this.environment.call("/step", StepData, { instance_id: this.instanceId, messages: action }, false);
    const result: StepResult = { observations: data.state, done: data.is_terminated, info: data.info };
    if (typeof data.reward === "number") result.reward = data.reward;
    if (data.tools) result.tools = data.tools;
    return result;
  }

  async evaluate(): Promise<Evaluation> {
    const envelope = await this.environment.post("/evaluate", { instance_id: this.instanceId }, true);
    if (envelope.evaluation) return envelope.evaluation;
    // AgentEvolver's servers answer only a score.
    const score = parseData(EvaluateData, envelope.data, "/evaluate", this.environment.url);
    return { score, success: score >= 1, details: {} };
  }

  /** Releasing twice, or after the service expired the instance, is not an error. */
  async release(): Promise<void> {
    await this.environment.post("/release", { instance_id: this.instanceId }, true);
  }
}

function parseData<T extends z.ZodType>(schema: T, data: unknown, path: string, url: string): z.infer<T> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "data"}: ${i.message}`);
  throw new EvolverError("ENV_REMOTE_ERROR", `env service ${path} answered data of an unexpected shape: ${problems.join("; ")}`, {
    details: { url, path, problems },
  });
}
