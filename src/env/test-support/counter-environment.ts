// A deterministic toy environment for tests and the env-service bench: bring a counter to a target with two tools.
// Tool-call problems (unknown function, bad arguments) are answered as tool observations, as every environment must.
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage, ToolCall, ToolSchema } from "../../core/messages.js";
import type { EnvInstance, EnvProfile, Environment, Evaluation, InitialState, Split, StepResult } from "../types.js";

const tasksBySplit: Record<Split, string[]> = {
  train: ["count-to-1", "count-to-2", "count-to-3", "count-to-4"],
  val: ["count-to-5"],
  test: ["count-to-6"],
};

const tools: ToolSchema[] = [
  {
    type: "function",
    function: {
      name: "increment",
      description: "Adds `by` (1 to 10) to the counter and returns the new count.",
      parameters: { type: "object", properties: { by: { type: "integer", minimum: 1, maximum: 10 } }, required: ["by"] },
    },
  },
  {
    type: "function",
    function: { name: "read_count", description: "Returns the count.", parameters: { type: "object", properties: {} } },
  },
];

export class CounterEnvironment implements Environment {
  readonly name = "counter";
  /** Instances created and not yet released: lets tests see that a service releases what it holds. */
  liveInstances = 0;
  closed = false;

  async listTasks(split: Split): Promise<string[]> {
    return [...tasksBySplit[split]];
  }

  async profile(): Promise<EnvProfile> {
    return {
      name: "counter",
      description: "A single counter that starts at 0.",
      entities: [
        {
          name: "counter",
          description: "An integer.",
          attributes: { count: "the current value" },
          operations: [
            { name: "increment", description: "add 1 to 10" },
            { name: "read_count", description: "read the value" },
          ],
        },
      ],
      taskPreferences: { numEntities: 1, numOperations: 1, relationDifficulty: 1, notes: "" },
    };
  }

  async create(taskId: string): Promise<EnvInstance> {
    const target = Object.values(tasksBySplit).flat().includes(taskId) ? Number(taskId.slice("count-to-".length)) : NaN;
    if (!Number.isInteger(target)) {
      throw new EvolverError("ENV_UNKNOWN_TASK", `counter has no task '${taskId}' (tasks are count-to-1 ... count-to-6)`, { details: { taskId } });
    }
    this.liveInstances += 1;
    return new CounterInstance(taskId, target, () => (this.liveInstances -= 1));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class CounterInstance implements EnvInstance {
  readonly initial: InitialState;
  private count = 0;
  private done = false;
  private released = false;

  constructor(
    readonly taskId: string,
    private readonly target: number,
    private readonly onRelease: () => void,
  ) {
    this.initial = {
      messages: [
        { role: "system", content: "You operate a counter through tools." },
        { role: "user", content: `Bring the counter to exactly ${target}, then reply without a tool call.` },
      ],
      tools,
      info: { target },
    };
  }

  async step(action: ChatMessage): Promise<StepResult> {
    if (this.done) throw new EvolverError("ENV_EPISODE_DONE", `task ${this.taskId} is already finished`);
    const calls = action.tool_calls ?? [];
    if (calls.length === 0) {
      this.done = true;
      return { observations: [], done: true, info: {} };
    }
    const observations = calls.map((call): ChatMessage => ({
      role: "tool",
      tool_call_id: call.id,
      name: call.function.name,
      content: JSON.stringify(this.run(call)),
    }));
    return { observations, done: false, info: { count: this.count } };
  }

  private run(call: ToolCall): Record<string, unknown> {
    let args: unknown;
    try {
      args = JSON.parse(call.function.arguments || "{}");
    } catch {
      return { error: `arguments of ${call.function.name} are not JSON: ${call.function.arguments}` };
    }
    if (call.function.name === "read_count") return { count: this.count };
    if (call.function.name !== "increment") return { error: `unknown function '${call.function.name}'; available: increment, read_count` };
    const by = (args as { by?: unknown } | null)?.by;
    if (typeof by !== "number" || !Number.isInteger(by) || by < 1 || by > 10) return { error: `increment: by must be an integer from 1 to 10, got ${JSON.stringify(by)}` };
    this.count += by;
    return { count: this.count };
  }

  async evaluate(): Promise<Evaluation> {
    const score = Math.max(0, 1 - Math.abs(this.target - this.count) / this.target);
    return { score, success: this.count === this.target, details: { count: this.count, target: this.target } };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}
