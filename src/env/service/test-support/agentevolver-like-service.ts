// A stand-in for AgentEvolver's own env service (env_service/env_service.py with environments/bfcl/bfcl_env.py,
// modelscope/AgentEvolver @a5a8db8), in front of one of our environments, for tests of the remote environment. It
// behaves as that service does, not as ours:
// - the action is read from the assistant's text: Qwen <tool_call>{"name", "arguments"}</tool_call> blocks, parsed
//   with bfcl_env.py's regex and rules (a block without both keys, or not JSON, is skipped); `tool_calls` is ignored;
// - /create answers the tools as a Qwen tool prompt in the system message (tools_schema_to_qwen_prompt) and no
//   tools list; each /step answers exactly one `user` message: the tool results as <tool_call>{"name", "content"}
//   </tool_call> text (tool_message_to_qwen_text), or the next user turn, or "[CONVERSATION_COMPLETED]";
// - splits are `train` and `val` only; another split is a 500 whose detail is a Python traceback ending in KeyError;
// - /step's reward is 0.0 until the end, then the sparse score; /evaluate answers the score with `sparse`, else a dict
//   with `accuracy`; /describe does not exist (FastAPI's 404); an unknown instance is a 400 "Instance ... not found!".
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatMessage, ToolCall, ToolSchema } from "../../../core/messages.js";
import type { EnvInstance, Environment } from "../../types.js";

export interface AgentEvolverLikeService {
  readonly url: string;
  /** Instances created and not yet released. */
  readonly live: () => number;
  /** Every action body /step received, in order. */
  readonly actions: ({ content?: unknown } | undefined)[];
  close(): Promise<void>;
}

const CALL_BLOCK = /<tool_call>\s*\n?({.*?})\s*\n?<\/tool_call>/gs;

/** bfcl_env.parse_assistant_content_to_tool_calls: arguments stay objects; ids are `${name}_${n}`. */
function readCalls(content: string): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const match of content.matchAll(CALL_BLOCK)) {
    let data: unknown;
    try {
      data = JSON.parse(match[1].trim());
    } catch {
      continue;
    }
    if (typeof data !== "object" || data === null || Array.isArray(data) || !("name" in data) || !("arguments" in data)) continue;
    const { name, arguments: args } = data as { name: string; arguments: unknown };
    calls.push({ id: `${name}_${calls.length + 1}`, type: "function", function: { name, arguments: JSON.stringify(args) } });
  }
  return calls;
}

function toolPrompt(tools: ToolSchema[]): string {
  if (tools.length === 0) return "";
  return [
    "\n\n# Tools\n",
    "You may call one or more functions to assist with the user query.\n",
    "You are provided with function signatures within <tools></tools> XML tags:",
    "<tools>",
    ...tools.map((tool) => JSON.stringify(tool.function)),
    "</tools>\n",
    "Important: Always use only the latest tool list provided, ignoring any functions mentioned in previous messages.",
    "For each function call, return a json object with function name and arguments within <tool_call> and <tool_call> XML tags:",
    "<tool_call>",
    '{"name": <function-name>, "arguments": <args-json-object>}',
    "</tool_call>",
  ].join("\n");
}

function toolResultText(message: ChatMessage): string {
  let content: unknown = message.content;
  if (/^\s*[[{]/.test(message.content)) {
    try {
      content = JSON.parse(message.content);
    } catch {
      content = message.content;
    }
  }
  return `<tool_call>\n${JSON.stringify({ name: message.name ?? message.tool_call_id, content })}\n</tool_call>\n`;
}

/** AgentEvolver's ServiceRequest. */
interface Body {
  env_type?: string;
  task_id?: string;
  instance_id?: string;
  messages?: { content?: unknown };
  params?: Record<string, unknown>;
}

interface Live {
  instance: EnvInstance;
  done: boolean;
}

export async function startAgentEvolverLikeService(env: Environment, envType: string): Promise<AgentEvolverLikeService> {
  const instances = new Map<string, Live>();
  const actions: Body["messages"][] = [];
  const splits: Record<string, () => Promise<string[]>> = { train: () => env.listTasks("train"), val: () => env.listTasks("val") };

  const live = (id: unknown): Live => {
    const entry = instances.get(String(id));
    if (!entry) throw Object.assign(new Error(`Instance ${id} not found!`), { status: 400 });
    return entry;
  };
  const traceback = (error: string) => Object.assign(new Error(`Traceback (most recent call last):\n  File "env_service.py", line 513\n${error}\n`), { status: 500 });

  const endpoints: Record<string, (body: Body) => Promise<unknown>> = {
    "/get_env_profile": async (body) => {
      const split = String(body.params?.split ?? "train");
      if (body.env_type !== envType) throw traceback(`KeyError: "Environment '${body.env_type}' not found. Available: ['${envType}']"`);
      if (!(split in splits)) throw traceback(`KeyError: '${split}'`);
      return { success: true, data: await splits[split]() };
    },
    "/create": async (body) => {
      let instance: EnvInstance;
      try {
        instance = await env.create(String(body.task_id), body.params ?? {});
      } catch (error) {
        throw traceback(`ValueError: Test case id '${body.task_id}' not found (${(error as Error).message})`);
      }
      instances.set(String(body.instance_id), { instance, done: false });
      const user = instance.initial.messages.find((m) => m.role === "user")?.content ?? "";
      const system = instance.initial.tools.length > 0 ? toolPrompt(instance.initial.tools) : (instance.initial.messages.find((m) => m.role === "system")?.content ?? "");
      return {
        success: true,
        data: { state: [{ role: "system", content: system }, { role: "user", content: user }], info: { instance_id: body.instance_id, task_id: body.task_id } },
      };
    },
    "/step": async (body) => {
      const entry = live(body.instance_id);
      actions.push(body.messages);
      const content = typeof body.messages?.content === "string" ? body.messages.content : "";
      const calls = readCalls(content);
      const result = await entry.instance.step({ role: "assistant", content: content.replace(CALL_BLOCK, "").trim(), ...(calls.length ? { tool_calls: calls } : {}) });
      let text = "";
      for (const message of result.observations) {
        if (message.role === "tool") text += toolResultText(message);
        else if (message.role === "user") text = message.content;
      }
      entry.done = result.done;
      if (result.done) text = "[CONVERSATION_COMPLETED]";
      const reward = result.done ? (await entry.instance.evaluate()).score : 0.0;
      return { success: true, data: { state: [{ role: "user", content: text, tool_calls: [] }], reward, is_terminated: result.done, info: {} } };
    },
    "/evaluate": async (body) => {
      const { score } = await live(body.instance_id).instance.evaluate();
      return { success: true, data: body.params?.sparse ? score : { valid: true, accuracy: score, total_count: 1, correct_count: score } };
    },
    "/get_info": async (body) => ({ success: true, data: `Available tools:\n${live(body.instance_id).instance.initial.tools.map((t) => `- ${t.function.name}`).join("\n")}` }),
    "/release": async (body) => {
      const entry = instances.get(String(body.instance_id));
      if (!entry) return { success: false, data: null };
      instances.delete(String(body.instance_id));
      await entry.instance.release();
      return { success: true, data: null };
    },
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const endpoint = request.method === "POST" ? endpoints[request.url ?? ""] : undefined;
      if (!endpoint) return send(404, { detail: "Not Found" });
      let body: Body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(422, { detail: [{ type: "json_invalid", msg: "JSON decode error" }] });
      }
      endpoint(body).then(
        (answer) => send(200, answer),
        (error: Error & { status?: number }) => send(error.status ?? 500, { detail: error.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    live: () => instances.size,
    actions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
