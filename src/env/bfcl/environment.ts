// BFCL v3 multi-turn as an Evolver environment. A task is one entry of the four categories (base, miss_func,
// miss_param, long_context). The agent's calls run against a live execution; a reply without calls ends the
// user's turn and reveals the next one; `evaluate` grades the recorded calls with BFCL's checker (grader.ts).
//
// Splits: every category's variant of scenario n shares the split of n (they are near-duplicates), picked by a
// stable FNV-1a hash of `bfcl-v3:<n>`: buckets 0-59 train, 60-79 val, 80-99 test (about 60/20/20).
import { z } from "zod";
import { EvolverError } from "../../core/errors.js";
import { deriveSeed, sampleSeeded } from "../../core/random.js";
import type { ChatMessage, ToolSchema } from "../../core/messages.js";
import { TaskSpec, type EnvCapabilities, type EnvInstance, type EnvProfile, type Environment, type Evaluation, type ExploredStep, type InitialState, type Split, type StepResult } from "../types.js";
import {
  BFCL_CATEGORIES,
  bfclDocToTool,
  loadBfclFuncDocs,
  loadBfclGroundTruth,
  loadBfclQuestions,
  type BfclCategoryName,
  type BfclQuestionEntry,
} from "./data.js";
import { BFCL_API_CLASSES, BFCL_STATELESS_CLASSES } from "./apis/index.js";
import { BfclExecution, ERROR_PREFIX } from "./executor.js";
import { DISTRACTOR_POOL_SIZE, generateDistractorTools } from "./distractors.js";
import { gradeBfclEntry } from "./grader.js";
import { formatBfclCall, parseBfclCalls, type BfclCall } from "./python/call-parser.js";
import { parsePythonJson } from "./python/json.js";
import { pyJsonDumps } from "./python/repr.js";
import { isPyDict, type PyDict } from "./python/value.js";
import { bfclReferenceSolution } from "./reference.js";
import { BFCL_OPERATION_TEMPLATES } from "./profile-templates.js";
import { describePyType } from "./python/value.js";
import { parseBfclCallsAsJson, toolCallToBfclCall } from "./tool-calls.js";

export const BfclEnvironmentOptions = z
  .object({
    /** The data folder; default $EVOLVER_BFCL_DATA or the package's data/bfcl-v3. */
    dataDir: z.string().optional(),
    categories: z.array(z.enum(BFCL_CATEGORIES)).min(1).default([...BFCL_CATEGORIES]),
    /** BFCL ends the whole episode (a failure) when a turn runs more assistant steps with calls than this. */
    maxStepsPerTurn: z.number().int().min(1).default(20),
    /** A large action space (tool retrieval): every task offers this many tools, its own API families' first, then
     * the other families' (all 129 from 129 on), then generated distractor APIs (distractors.ts). Unset: the task's
     * own families only, as BFCL. The task, its held-out functions and its grading stay BFCL's. */
    toolCount: z.number().int().min(1).max(DISTRACTOR_POOL_SIZE).optional(),
    /** Seeds which other tools and distractors fill a tool space. */
    toolSeed: z.number().int().default(0),
  })
  .strict();
export type BfclEnvironmentOptions = z.infer<typeof BfclEnvironmentOptions>;

const InstanceParams = z.object({ format: z.enum(["native", "bfcl"]).default("native"), task: TaskSpec.optional() }).strict();

/** A BFCL task spec's setup: the classes involved and their initial config, as Python JSON text (BFCL's
 * `initial_config`; text keeps `10.0` a float, which a JSON object would turn into an int). */
export const BfclTaskSetup = z
  .object({
    involved_classes: z.array(z.string().refine((name) => Object.hasOwn(BFCL_API_CLASSES, name), { message: `unknown BFCL class; known: ${Object.keys(BFCL_API_CLASSES).join(", ")}` })).min(1),
    initial_config: z.string().default("{}"),
  })
  .strict();
export type BfclTaskSetup = z.infer<typeof BfclTaskSetup>;

export const BFCL_SYSTEM_PROMPT = [
  "You help a user by calling the functions you are given. The conversation has several user turns.",
  "In each turn, call functions (several per message if you like) until the request is done, then reply with a",
  "short message and no function call: that ends your turn. If a request lacks a value a function needs, or no",
  "function can do it, say so instead of guessing.",
].join(" ");

export const BFCL_FUNCTIONS_UPDATED = "I have updated some more functions you can choose from. What about now?";

function splitOf(taskId: string): Split {
  const key = `bfcl-v3:${taskId.slice(taskId.lastIndexOf("_") + 1)}`;
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  const bucket = h % 100;
  return bucket < 60 ? "train" : bucket < 80 ? "val" : "test";
}

interface BfclTask {
  entry: BfclQuestionEntry;
  groundTruth: string[][];
  category: BfclCategoryName;
}

export class BfclEnvironment implements Environment {
  readonly name = "bfcl-v3";
  readonly options: BfclEnvironmentOptions;
  private tasks?: Map<string, BfclTask>;
  /** Tool objects shared by every instance, so that a tool's vector is found by identity (tool retrieval). */
  private classTools?: Map<string, ToolSchema[]>;
  private distractors?: ToolSchema[];

  constructor(options: Record<string, unknown> = {}) {
    const parsed = BfclEnvironmentOptions.safeParse(options);
    if (!parsed.success) {
      throw new EvolverError("ENV_BAD_OPTIONS", `bfcl-v3 options: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    }
    this.options = parsed.data;
  }

  private allTasks(): Map<string, BfclTask> {
    if (!this.tasks) {
      this.tasks = new Map();
      for (const category of this.options.categories) {
        const truth = loadBfclGroundTruth(category, this.options.dataDir);
        for (const entry of loadBfclQuestions(category, this.options.dataDir)) {
          const groundTruth = truth.get(entry.id);
          if (!groundTruth) throw new EvolverError("BFCL_DATA_MISSING", `no ground truth for ${entry.id}`);
          this.tasks.set(entry.id, { entry, groundTruth, category });
        }
      }
    }
    return this.tasks;
  }

  async listTasks(split: Split): Promise<string[]> {
    return [...this.allTasks().keys()].filter((id) => splitOf(id) === split);
  }

  async profile(): Promise<EnvProfile> {
    return bfclProfile(this.options.dataDir);
  }

  /** BFCL grades whole turns against the ground truth's end state in `evaluate`; a step alone has no reward. A message
   * whose calls do not decode ends the turn here, as in BFCL's inference, so the rollout passes it on. */
  async capabilities(): Promise<EnvCapabilities> {
    return { stepRewards: false, decodesCalls: true };
  }

  async create(taskId: string, params: Record<string, unknown> = {}): Promise<EnvInstance> {
    const parsed = InstanceParams.safeParse(params);
    if (!parsed.success) throw new EvolverError("ENV_BAD_PARAMS", `bfcl-v3 params: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    const task = parsed.data.task ? taskFromSpec(taskId, parsed.data.task) : this.allTasks().get(taskId);
    if (!task) throw new EvolverError("ENV_UNKNOWN_TASK", `bfcl-v3 has no task '${taskId}'`, { details: { taskId } });
    return new BfclInstance(task, parsed.data.format, this.options, this.toolSpace(task.entry.involved_classes));
  }

  /** The tools a task offers (before held-out functions are hidden): its classes', then the `toolCount` filling. */
  toolSpace(involvedClasses: readonly string[]): ToolSchema[] {
    if (!this.classTools) {
      const docs = loadBfclFuncDocs(this.options.dataDir);
      this.classTools = new Map([...docs].map(([className, functions]) => [className, functions.map(bfclDocToTool)]));
    }
    const own = involvedClasses.flatMap((className) => this.classTools!.get(className) ?? []);
    const count = this.options.toolCount;
    if (count === undefined || count <= own.length) return own;
    const others = [...this.classTools].filter(([className]) => !involvedClasses.includes(className)).flatMap(([, tools]) => tools);
    const allReal = own.length + others.length;
    if (count < allReal) {
      const picked = new Set(sampleSeeded(others, count - own.length, deriveSeed("bfcl-tools", this.options.toolSeed, ...involvedClasses)));
      return [...own, ...others.filter((tool) => picked.has(tool))];
    }
    if (!this.distractors || this.distractors.length < count - allReal) {
      const reserved = new Set([...this.classTools.values()].flat().map((tool) => tool.function.name));
      this.distractors = generateDistractorTools(count - allReal, this.options.toolSeed, reserved);
    }
    return [...own, ...others, ...this.distractors.slice(0, count - allReal)];
  }

  /** The entry written out: its questions, its setup and its ground truth as calls with JSON arguments. */
  async taskSpec(taskId: string): Promise<TaskSpec | undefined> {
    const task = this.allTasks().get(taskId);
    if (!task) throw new EvolverError("ENV_UNKNOWN_TASK", `bfcl-v3 has no task '${taskId}'`, { details: { taskId } });
    const { entry, groundTruth } = task;
    if (groundTruth.length !== entry.question.length) return undefined;
    return {
      turns: entry.question.map((turn) => turn.map((m) => m.content).join("\n")),
      setup: { involved_classes: [...entry.involved_classes], initial_config: pyJsonDumps(entry.initial_config, { compact: false, ensureAscii: false }) },
      solution: groundTruth.map((calls) =>
        calls.flatMap((text) => parseBfclCallsAsJson(text, this.options.dataDir)).map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as Record<string, unknown> })),
      ),
    };
  }

  /** One class, with the initial config a base training entry gives it (drawn by seed); empty where none has it. */
  async explorationSetup(entity: string, seed: number): Promise<BfclTaskSetup> {
    if (!Object.hasOwn(BFCL_API_CLASSES, entity)) throw new EvolverError("ENV_BAD_PARAMS", `bfcl-v3 has no class '${entity}'; known: ${Object.keys(BFCL_API_CLASSES).join(", ")}`);
    const candidates = [...this.allTasks().values()].filter(
      (t) => t.category === "base" && splitOf(t.entry.id) === "train" && t.entry.involved_classes.includes(entity) && isPyDict(t.entry.initial_config?.[entity]),
    );
    const source = candidates.length > 0 ? candidates[Math.abs(seed) % candidates.length] : undefined;
    const config: PyDict = source ? { [entity]: source.entry.initial_config[entity] } : {};
    return { involved_classes: [entity], initial_config: pyJsonDumps(config, { compact: false, ensureAscii: false }) };
  }

  /** Every call that ran without error, in order; each step that made one is a turn. */
  async hindsightTask(setup: Record<string, unknown>, steps: ExploredStep[]): Promise<Pick<TaskSpec, "setup" | "solution"> | undefined> {
    const solution: TaskSpec["solution"] = [];
    for (const step of steps) {
      const calls = (step.action.tool_calls ?? []).flatMap((call, i) => {
        const observation = step.observations.find((m) => m.role === "tool" && m.tool_call_id === call.id) ?? step.observations[i];
        if (!observation || bfclCallFailed(observation.content)) return [];
        try {
          const args: unknown = JSON.parse(call.function.arguments || "{}");
          return isPyDict(args) ? [{ name: call.function.name, arguments: args as Record<string, unknown> }] : [];
        } catch {
          return [];
        }
      });
      if (calls.length > 0) solution.push(calls);
    }
    return solution.length > 0 ? { setup, solution } : undefined;
  }

  /** The ground truth played as native calls through a fresh instance (reference.ts); undefined for base_154. */
  async referenceSolution(taskId: string): Promise<ChatMessage[] | undefined> {
    return bfclReferenceSolution(this, taskId);
  }
}

class BfclInstance implements EnvInstance {
  readonly taskId: string;
  readonly initial: InitialState;
  private readonly execution: BfclExecution;
  private readonly allTools: ToolSchema[];
  private readonly heldOut = new Map<number, Set<string>>();
  private tools: ToolSchema[];
  private turn = 0;
  private stepsInTurn = 0;
  private currentTurn: BfclCall[][] = [];
  private readonly turns: BfclCall[][][] = [];
  private done = false;
  private forceTerminated = false;
  private callCount = 0;

  constructor(
    private readonly task: BfclTask,
    private readonly format: "native" | "bfcl",
    private readonly options: BfclEnvironmentOptions,
    toolSpace: ToolSchema[],
  ) {
    const { entry } = task;
    this.taskId = entry.id;
    this.execution = new BfclExecution(entry);
    this.allTools = toolSpace;
    for (const [turn, names] of Object.entries(entry.missed_function ?? {})) this.heldOut.set(Number(turn), new Set(names));
    const hidden = new Set([...this.heldOut.values()].flatMap((names) => [...names]));
    this.tools = this.allTools.filter((tool) => !hidden.has(tool.function.name));
    this.initial = {
      messages: [{ role: "system", content: BFCL_SYSTEM_PROMPT }, ...this.userTurn(0)],
      tools: this.tools,
      info: {
        category: task.category,
        turns: entry.question.length,
        involvedClasses: entry.involved_classes,
        heldOutFunctions: entry.missed_function ?? {},
      },
    };
  }

  /** The messages that open a turn; for miss_func's turn k, held-back tools return with BFCL's notice. */
  private userTurn(turn: number): ChatMessage[] {
    const messages = this.task.entry.question[turn].map((m): ChatMessage => ({ role: m.role as ChatMessage["role"], content: m.content }));
    if (this.heldOut.has(turn) && messages.length === 0) messages.push({ role: "user", content: BFCL_FUNCTIONS_UPDATED });
    return messages;
  }

  async step(action: ChatMessage): Promise<StepResult> {
    if (this.done) throw new EvolverError("ENV_DONE", `bfcl-v3 task ${this.taskId} is finished; no more steps`);
    const calls = this.callsOf(action);
    if (calls.length === 0) return this.endTurn();
    const toolCallId = (i: number) => calls[i].id ?? `bfcl_${this.turn}_${this.stepsInTurn}_${i}`;

    const broken = calls.find((item) => !item.call);
    if (broken) {
      // BFCL decodes a message's calls together (json.loads of each call's arguments, then its items), and one
      // failure fails the message: nothing runs, the step records no call, and the turn ends. Each call still gets
      // an answer, which chat APIs require before the next user message.
      const answers = calls.map((item, i): ChatMessage => ({
        role: "tool",
        content: item.call ? `Not run: the arguments of ${broken.name} do not decode, so no call of this message ran` : `Error: ${item.error}; no call of this message ran`,
        tool_call_id: toolCallId(i),
        name: item.name,
      }));
      const next = this.endTurn();
      return { ...next, observations: [...answers, ...next.observations] };
    }

    const observations = calls.map((item, i): ChatMessage => ({ role: "tool", content: this.execution.execute(item.call!), tool_call_id: toolCallId(i), name: item.name }));
    this.currentTurn.push(calls.map((item) => item.call!));
    this.callCount += calls.length;
    this.stepsInTurn++;
    if (this.stepsInTurn > this.options.maxStepsPerTurn) {
      // BFCL's inference force-quits after the step that passes its limit, but still records that turn: forced out
      // of the last turn, the entry is graded like any other; out of an earlier one, the turn count falls short.
      this.turns.push(this.currentTurn);
      this.currentTurn = [];
      this.done = true;
      this.forceTerminated = true;
    }
    const errors = observations.filter((m) => bfclCallFailed(m.content)).map((m) => `${m.name}: ${m.content}`);
    return { observations, done: this.done, ...(errors.length > 0 ? { errors } : {}), info: this.stepInfo() };
  }

  /** The assistant's calls: native tool calls, or (format "bfcl") a call list in the content. */
  private callsOf(action: ChatMessage): { id?: string; name: string; call?: BfclCall; error?: string }[] {
    if (action.tool_calls && action.tool_calls.length > 0) {
      return action.tool_calls.map((toolCall) => {
        try {
          return { id: toolCall.id, name: toolCall.function.name, call: toolCallToBfclCall(toolCall) };
        } catch (error) {
          return { id: toolCall.id, name: toolCall.function.name, error: (error as Error).message };
        }
      });
    }
    if (this.format !== "bfcl" || action.content.trim() === "") return [];
    try {
      // Text that does not decode to calls ends the turn, as in BFCL's inference loop.
      return parseBfclCalls(action.content).map((call) => ({ name: call.name, call }));
    } catch {
      return [];
    }
  }

  private endTurn(): StepResult {
    this.turns.push(this.currentTurn);
    this.currentTurn = [];
    this.stepsInTurn = 0;
    this.turn++;
    if (this.turn >= this.task.entry.question.length) {
      this.done = true;
      return { observations: [], done: true, info: this.stepInfo() };
    }
    const result: StepResult = { observations: this.userTurn(this.turn), done: false, info: this.stepInfo() };
    const returning = this.heldOut.get(this.turn);
    if (returning) {
      this.tools = this.allTools.filter((tool) => this.tools.includes(tool) || returning.has(tool.function.name));
      result.tools = this.tools;
    }
    return result;
  }

  private stepInfo(): Record<string, unknown> {
    return { turn: this.turn, stepsInTurn: this.stepsInTurn, calls: this.callCount, forceTerminated: this.forceTerminated };
  }

  async evaluate(): Promise<Evaluation> {
    const grade = gradeBfclEntry({ entry: this.task.entry, groundTruth: this.task.groundTruth, modelTurns: this.turns });
    return {
      score: grade.success ? 1 : 0,
      success: grade.success,
      details: {
        category: this.task.category,
        completedTurns: this.turns.length,
        forceTerminated: this.forceTerminated,
        turnAccuracy: grade.turnAccuracy,
        error: grade.error,
        errorType: grade.errorType,
        turns: grade.turns.map((t) => ({
          turn: t.turn,
          checked: t.checked,
          passed: t.passed,
          failure: t.failure,
          stateDifferences: t.stateDifferences,
          missingResults: t.missingResults,
        })),
      },
    };
  }

  async release(): Promise<void> {}
}

/** A call failed when it raised ("Error during execution: ...") or answered with BFCL's error dict ({"error": ...}). */
export function bfclCallFailed(result: string): boolean {
  return result.startsWith(ERROR_PREFIX) || result.startsWith('{"error": ');
}

/** A task spec as BFCL's own two lines: the question entry (BFCL_v3_multi_turn_*.json) and the possible answer
 * (possible_answer/…), so that BFCL's tooling reads synthetic tasks as it reads its own. */
export function bfclTaskLines(id: string, spec: TaskSpec): { question: string; answer: string } {
  const task = taskFromSpec(id, spec);
  const setup = BfclTaskSetup.parse(spec.setup);
  // initial_config is written as its Python JSON text, so a float stays a float.
  const question = `{"id": ${JSON.stringify(id)}, "question": ${JSON.stringify(task.entry.question)}, "initial_config": ${setup.initial_config}, "path": [], "involved_classes": ${JSON.stringify(setup.involved_classes)}}`;
  const answer = JSON.stringify({ id, ground_truth: task.groundTruth });
  return { question, answer };
}

/** A synthetic task from its spec: BFCL's entry fields (one user message per turn) and its ground truth as call text. */
function taskFromSpec(taskId: string, spec: TaskSpec): BfclTask {
  const setup = BfclTaskSetup.safeParse(spec.setup);
  if (!setup.success) throw new EvolverError("ENV_BAD_PARAMS", `bfcl-v3 task setup: ${setup.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  let initialConfig;
  try {
    initialConfig = parsePythonJson(setup.data.initial_config);
  } catch (error) {
    throw new EvolverError("ENV_BAD_PARAMS", `bfcl-v3 task setup.initial_config: ${(error as Error).message}`);
  }
  if (!isPyDict(initialConfig)) throw new EvolverError("ENV_BAD_PARAMS", "bfcl-v3 task setup.initial_config must be a JSON object");
  if (spec.solution.length > spec.turns.length) throw new EvolverError("ENV_BAD_PARAMS", `bfcl-v3 task: ${spec.solution.length} solution turns for ${spec.turns.length} user turns`);
  const groundTruth = spec.turns.map((_, turn) =>
    (spec.solution[turn] ?? []).map((action) => {
      if (!("name" in action)) throw new EvolverError("ENV_BAD_PARAMS", `bfcl-v3 task: turn ${turn}'s solution has a reply where a call belongs`);
      try {
        return formatBfclCall(toolCallToBfclCall({ id: "spec", type: "function", function: { name: action.name, arguments: JSON.stringify(action.arguments) } }));
      } catch (error) {
        throw new EvolverError("ENV_BAD_PARAMS", `bfcl-v3 task: ${(error as Error).message}`);
      }
    }),
  );
  return {
    entry: { id: taskId, question: spec.turns.map((content) => [{ role: "user", content }]), initial_config: initialConfig, path: [], involved_classes: setup.data.involved_classes },
    groundTruth,
    category: "base",
  };
}

/** The eight classes as entities, their functions as operations (descriptions from the function docs). */
export function bfclProfile(dataDir?: string): EnvProfile {
  const docs = loadBfclFuncDocs(dataDir);
  const entities = [...docs].map(([className, functions]) => {
    const first = functions[0]?.description ?? "";
    const cut = first.indexOf("Tool description:");
    return {
      name: className,
      description: (cut >= 0 ? first.slice(0, cut) : "").trim(),
      attributes: defaultAttributes(className),
      operations: functions.map((doc) => {
        const at = doc.description.indexOf("Tool description:");
        const template = Object.hasOwn(BFCL_OPERATION_TEMPLATES, doc.name) ? BFCL_OPERATION_TEMPLATES[doc.name] : undefined;
        return { name: doc.name, description: (at >= 0 ? doc.description.slice(at + "Tool description:".length) : doc.description).trim(), ...(template ? { template } : {}) };
      }),
    };
  });
  return {
    name: "bfcl-v3",
    description:
      "BFCL v3 multi-turn: a user asks for several things in a row, and the agent fulfils each request by calling functions of stateful backends (file system, messaging, social posts, tickets, trading, travel booking, vehicle control, math).",
    entities,
    taskPreferences: {
      numEntities: 2,
      numOperations: 3,
      relationDifficulty: 2,
      notes: "Tasks span several user turns; later turns depend on the state earlier calls left behind.",
    },
  };
}

/** A class's public attributes with their Python types, as a fresh instance with an empty scenario has them. */
function defaultAttributes(className: string): Record<string, string> {
  const apiClass = BFCL_API_CLASSES[className];
  if (!apiClass) return {};
  const instance = apiClass.create();
  if (!BFCL_STATELESS_CLASSES.has(className)) instance.loadScenario({}, false);
  return Object.fromEntries(Object.entries(instance.state()).map(([name, value]) => [name, describePyType(value)]));
}
