// The POST endpoints of the environment service: each parses its body with its schema, calls the Environment
// interface, and returns the response body in AgentEvolver's `{success, data}` shape. A problem inside a tool call
// (unknown function, bad arguments) is the environment's business: it comes back as an observation in a normal
// step response, never as an HTTP error.
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { EvolverError } from "../../core/errors.js";
import { environmentCapabilities, type Environment } from "../types.js";
import { successText, successToolsText } from "./answer-text.js";
import { errorResponse } from "./errors.js";
import { runExclusive, type InstanceTable } from "./instances.js";
import {
  CreateData,
  CreateRequest,
  EnvTypeRequest,
  InstanceRequest,
  SplitParam,
  StepData,
  StepRequest,
  parseRequest,
} from "./schema.js";

export interface ServiceContext {
  readonly table: InstanceTable;
  /** The environment type named by a request; ENV_UNKNOWN (listing the known ones) for any other name. */
  environment(name: string): Promise<Environment>;
  /** True once close() began: new instances are refused. */
  readonly closing: boolean;
}

/** Resolves with the answer body: an object to stringify, or a JsonText (answers that carry tools). */
export type Endpoint = (body: unknown, context: ServiceContext) => Promise<unknown>;

async function create(body: unknown, context: ServiceContext) {
  const request = parseRequest(CreateRequest, body, "/create");
  const environment = await context.environment(request.env_type);
  const instanceId = request.instance_id ?? randomUUID();
  context.table.reserve(instanceId);
  let instance;
  try {
    instance = await environment.create(request.task_id, request.params);
  } catch (error) {
    context.table.unreserve(instanceId);
    throw error;
  }
  if (context.closing) {
    context.table.unreserve(instanceId);
    await instance.release();
    throw new EvolverError("ENV_SERVICE_CLOSING", "the service is shutting down");
  }
  context.table.add(instanceId, request.env_type, instance, Date.now());
  const { messages, tools, info } = instance.initial;
  const data: z.input<typeof CreateData> = { state: messages, info: { ...info, instance_id: instanceId, task_id: request.task_id }, tools };
  return successText(data);
}

async function step(body: unknown, context: ServiceContext) {
  const request = parseRequest(StepRequest, body, "/step");
  const entry = context.table.get(request.instance_id);
  const result = await runExclusive(entry, Date.now(), () => entry.instance.step(request.messages));
  const data: z.input<typeof StepData> = {
    state: result.observations,
    reward: result.reward ?? null,
    is_terminated: result.done,
    info: result.info,
  };
  if (result.tools) {
    entry.tools = result.tools;
    data.tools = result.tools;
  }
  return successText(data);
}

async function evaluate(body: unknown, context: ServiceContext) {
  const request = parseRequest(InstanceRequest, body, "/evaluate");
  const entry = context.table.get(request.instance_id);
  const evaluation = await runExclusive(entry, Date.now(), () => entry.instance.evaluate());
  // AgentEvolver's `sparse` asks for the binary outcome (AppWorld: all checks passed) instead of the partial score.
  const score = request.params.sparse === true ? (evaluation.success ? 1 : 0) : evaluation.score;
  return { success: true, data: score, evaluation };
}

async function getInfo(body: unknown, context: ServiceContext) {
  const request = parseRequest(InstanceRequest, body, "/get_info");
  const entry = context.table.get(request.instance_id);
  entry.lastUsedMs = Date.now();
  return successToolsText(entry.tools);
}

/** Releasing an unknown instance is not an error, as in AgentEvolver: `success` is false and `error` says why. */
async function release(body: unknown, context: ServiceContext) {
  const request = parseRequest(InstanceRequest, body, "/release");
  const entry = context.table.remove(request.instance_id);
  if (!entry) return { success: false, data: null, error: errorResponse(context.table.missing(request.instance_id)).body.error };
  await entry.tail;
  await entry.instance.release();
  return { success: true, data: null };
}

/** AgentEvolver's name for "the task ids of a split" (`params.split`, default train). */
async function getEnvProfile(body: unknown, context: ServiceContext) {
  const request = parseRequest(EnvTypeRequest, body, "/get_env_profile");
  const split = SplitParam.safeParse(request.params.split);
  if (!split.success) {
    throw new EvolverError("ENV_SERVICE_BAD_REQUEST", `/get_env_profile: params.split must be one of train, val, test; got ${JSON.stringify(request.params.split)}`);
  }
  const environment = await context.environment(request.env_type);
  return { success: true, data: await environment.listTasks(split.data) };
}

/** Our extension: the environment profile that self-questioning explores (entities, operations, preferences), and
 * beside it what the environment can do (`capabilities.step_rewards`: whether its steps report rewards; `decodes_calls`: whether it reads undecodable tool calls
 * itself). */
async function describe(body: unknown, context: ServiceContext) {
  const request = parseRequest(EnvTypeRequest, body, "/describe");
  const environment = await context.environment(request.env_type);
  const capabilities = await environmentCapabilities(environment);
  return { success: true, data: await environment.profile(), capabilities: { step_rewards: capabilities.stepRewards, decodes_calls: capabilities.decodesCalls } };
}

export const postEndpoints = new Map<string, Endpoint>([
  ["/create", create],
  ["/step", step],
  ["/evaluate", evaluate],
  ["/get_info", getInfo],
  ["/release", release],
  ["/get_env_profile", getEnvProfile],
  ["/describe", describe],
]);
