// A small AppWorld-like environment for tests of judged synthetic tasks: a notes app that grades only its own tasks
// and takes an open request through create's params.query; it records every create.
import { EvolverError } from "../../../core/errors.js";
import type { ChatMessage, ToolSchema } from "../../../core/messages.js";
import type { EnvInstance, EnvProfile, Environment, Evaluation, Split, StepResult } from "../../../env/index.js";

const notesTools: ToolSchema[] = [
  { type: "function", function: { name: "add_note", description: "Adds a note.", parameters: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } } },
  { type: "function", function: { name: "list_notes", description: "Lists the notes.", parameters: { type: "object", properties: {} } } },
];
const goals: Record<string, string> = { "note-a": "buy milk", "note-b": "pay rent", "note-c": "book dentist" };

/** AppWorld-like: it grades only its own tasks, and takes an open request through create's params.query. */
export class NotesEnvironment implements Environment {
  readonly name = "notes";
  readonly created: { taskId: string; params: Record<string, unknown> }[] = [];
  async listTasks(split: Split): Promise<string[]> {
    return split === "train" ? ["note-a", "note-b"] : split === "val" ? ["note-c"] : [];
  }
  async profile(): Promise<EnvProfile> {
    return {
      name: "notes", description: "A notes app.",
      entities: [{ name: "notes", description: "The user's notes.", attributes: {}, operations: [{ name: "add_note", description: "add" }, { name: "list_notes", description: "list" }] }],
      taskPreferences: { numEntities: 1, numOperations: 1, relationDifficulty: 1, notes: "" },
    };
  }
  async create(taskId: string, params: Record<string, unknown> = {}): Promise<EnvInstance> {
    if (!Object.hasOwn(goals, taskId)) throw new EvolverError("ENV_UNKNOWN_TASK", `no task ${taskId}`);
    this.created.push({ taskId, params });
    const notes: string[] = [];
    const request = typeof params.query === "string" ? params.query : `Add a note saying '${goals[taskId]}'.`;
    return {
      taskId,
      initial: { messages: [{ role: "system", content: "You manage the user's notes." }, { role: "user", content: request }], tools: notesTools, info: {} },
      async step(action: ChatMessage): Promise<StepResult> {
        const calls = action.tool_calls ?? [];
        if (calls.length === 0) return { observations: [], done: true, info: {} };
        const observations = calls.map((call): ChatMessage => {
          if (call.function.name === "add_note") notes.push(String(JSON.parse(call.function.arguments).text));
          return { role: "tool", tool_call_id: call.id, name: call.function.name, content: JSON.stringify({ notes }) };
        });
        return { observations, done: false, info: {} };
      },
      async evaluate(): Promise<Evaluation> {
        return { score: notes.includes(goals[taskId]) ? 1 : 0, success: notes.includes(goals[taskId]), details: {} };
      },
      async release() {},
    };
  }
}
