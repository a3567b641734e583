// A scripted explorer of BFCL's file system, shared by the questioning tests: ls, mkdir, a cd that errs, then a reply.
import type { ChatMessage } from "../../../core/messages.js";
import { ScriptedProvider } from "../../../llm/index.js";

/** Explorations run concurrently: each reply depends on the conversation it answers, not on the call order. */
export function fileSystemExplorer(): ScriptedProvider {
  const call = (id: string, name: string, args: Record<string, unknown>): ChatMessage => ({
    role: "assistant", content: "", tool_calls: [{ id, type: "function", function: { name, arguments: JSON.stringify(args) } }],
  });
  const script: ChatMessage[] = [
    call("c1", "ls", {}),
    call("c2", "mkdir", { dir_name: "synthetic_notes" }),
    call("c3", "cd", { folder: "no_such_folder_here" }),
    { role: "assistant", content: "I have seen enough." },
  ];
  return new ScriptedProvider([(request) => script[Math.min(request.messages.filter((m) => m.role === "assistant").length, script.length - 1)]], { loop: true });
}
