// A model's own chat template (the Jinja text in tokenizer_config.json or the GGUF's tokenizer.chat_template),
// rendered with @huggingface/jinja exactly as HF's apply_chat_template renders it, and tokenized by the model's
// tokenizer. This is what makes a prompt the one the model was made for, whatever its family.
//
// Token-in/token-out: the continuation after a finished turn is derived from the template itself, by rendering the
// conversation with and without the new messages; the longer text must start with the shorter one (else
// LLM_TEMPLATE_NOT_APPEND_ONLY names where they part), and the new text is tokenized after the stop token it
// follows, so its ids are the ones the whole conversation's text gets (tested per family on random conversations).
//
// Templates that cannot show tools (they ignore `tools`, or raise on a "tool" message, as Llama 2's and Gemma 3's
// do) get the conversation lowered first: the tools described in the system turn, calls written as Hermes
// <tool_call> JSON in the assistant's text, results as a user turn of <tool_response> blocks.
import { Template } from "@huggingface/jinja";
import { EvolverError } from "../core/errors.js";
import { llmError } from "./errors.js";
import type { ChatMessage, ToolSchema } from "../core/messages.js";
import { mapJsonText, pythonNumberText } from "./python-json.js";
import type { ChatTemplate, ContinuationOptions, TextTokenizer, ToolCallSyntax } from "./types.js";

/** A template text, or HF's list of named templates ("default", "tool_use", ...). */
export type ChatTemplateSource = string | { name: string; template: string }[];

export interface JinjaChatTemplateOptions {
  template: ChatTemplateSource;
  tokenizer: TextTokenizer;
  /** Special-token variables the template reads: bos_token, eos_token, ... */
  specialTokens?: Record<string, string>;
  /** Texts of the tokens that end an assistant turn; default: eos_token. Each must be one token. */
  stopTexts?: string[];
  /** Further template variables (e.g. enable_thinking: false for Qwen3). */
  variables?: Record<string, unknown>;
}

const probeTool: ToolSchema = {
  type: "function",
  function: { name: "evolver_probe_fn", description: "probe", parameters: { type: "object", properties: { x: { type: "string" } } } },
};
const probeConversation: ChatMessage[] = [
  { role: "system", content: "S" },
  { role: "user", content: "U1" },
  { role: "assistant", content: "", tool_calls: [{ id: "c0", type: "function", function: { name: "evolver_probe_call", arguments: '{"x": "1"}' } }] },
  { role: "tool", content: "evolver_probe_result", tool_call_id: "c0", name: "evolver_probe_call" },
  { role: "assistant", content: "A1" },
  { role: "user", content: "U2" },
  { role: "assistant", content: "A2" },
];

export class JinjaChatTemplate implements ChatTemplate {
  readonly stopTokens: number[];
  readonly toolCallSyntax: ToolCallSyntax;
  /** The template shows tools, tool calls and tool results itself (no lowering needed). */
  readonly nativeTools: boolean;
  private readonly tokenizer: TextTokenizer;
  private readonly templates: { plain: Template; withTools: Template };
  private readonly variables: Record<string, unknown>;
  private readonly stopTexts: string[];

  constructor(options: JinjaChatTemplateOptions) {
    this.tokenizer = options.tokenizer;
    this.templates = compileTemplates(options.template);
    this.variables = { ...options.specialTokens, ...options.variables };
    const eos = options.specialTokens?.eos_token;
    this.stopTexts = options.stopTexts ?? (eos ? [eos] : []);
    if (this.stopTexts.length === 0) throw llmError("LLM_TEMPLATE_MISMATCH", "the chat template has no stop token: the tokenizer names no eos_token");
    this.stopTokens = this.stopTexts.map((text) => {
      const ids = this.tokenizer.encode(text);
      if (ids.length !== 1) throw llmError("LLM_TEMPLATE_MISMATCH", `the stop token '${text}' is ${ids.length} tokens in this tokenizer, not one`);
      return ids[0];
    });
    this.nativeTools = this.probeNativeTools();
    this.toolCallSyntax = this.nativeTools ? detectToolCallSyntax(sourceText(options.template)) : "hermes";
  }

  /** The template's text for these messages; without the generation prompt it ends with the last stop token. */
  renderText(messages: ChatMessage[], options: { tools?: ToolSchema[]; addGenerationPrompt: boolean }): string {
    const tools = options.tools?.length ? options.tools : undefined;
    const text = this.renderRaw(this.nativeTools ? messages : lowerConversation(messages, tools), this.nativeTools ? tools : undefined, options.addGenerationPrompt);
    return options.addGenerationPrompt ? text : this.cutAfterLastStop(text);
  }

  /** The text that follows `previous` (which ends with a finished turn) when `messages` come next. */
  renderContinuationText(messages: ChatMessage[], options: ContinuationOptions): string {
    const before = this.renderText(options.previous, { tools: options.tools, addGenerationPrompt: false });
    const all = this.renderText([...options.previous, ...messages], options);
    if (!all.startsWith(before)) throw notAppendOnly(before, all);
    return all.slice(before.length);
  }

  render(messages: ChatMessage[], options: { tools?: ToolSchema[]; addGenerationPrompt: boolean }): number[] {
    return this.tokenizer.encode(this.renderText(messages, options));
  }

  renderContinuation(messages: ChatMessage[], options: ContinuationOptions): number[] {
    const before = this.renderText(options.previous, { tools: options.tools, addGenerationPrompt: false });
    const continuation = this.renderContinuationText(messages, options);
    const anchor = this.stopTexts.find((stop) => before.endsWith(stop));
    if (anchor !== undefined) {
      // Tokenized behind the stop token it follows, as it is inside the whole conversation's text.
      const ids = this.tokenizer.encode(anchor + continuation);
      const anchorId = this.stopTokens[this.stopTexts.indexOf(anchor)];
      if (ids[0] === anchorId) return ids.slice(1);
    }
    const prefixIds = this.tokenizer.encode(before);
    const allIds = this.tokenizer.encode(before + continuation);
    if (!startsWith(allIds, prefixIds)) {
      throw llmError(
        "LLM_TEMPLATE_NOT_APPEND_ONLY",
        `the tokens of the conversation so far are not a prefix of the tokens of the conversation with the next turn (the text joins across '${before.slice(-20)}|${continuation.slice(0, 20)}')`,
      );
    }
    return allIds.slice(prefixIds.length);
  }

  /**
   * Why token-in/token-out cannot use this template, on a conversation with a tool call, a tool result and a second
   * user turn; undefined when every turn boundary appends.
   */
  appendOnlyProblem(): string | undefined {
    for (let k = 2; k < probeConversation.length; k++) {
      if (probeConversation[k - 1].role !== "assistant") continue;
      try {
        this.renderContinuation(probeConversation.slice(k), { previous: probeConversation.slice(0, k), tools: [probeTool], addGenerationPrompt: true });
      } catch (error) {
        return (error as Error).message;
      }
    }
    return undefined;
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  decode(tokens: number[]): string {
    return this.tokenizer.decode(tokens);
  }

  private renderRaw(messages: ChatMessage[], tools: ToolSchema[] | undefined, addGenerationPrompt: boolean): string {
    const template = tools ? this.templates.withTools : this.templates.plain;
    try {
      return unmarkNumbers(template.render({ ...this.variables, messages: messages.map(toTemplateMessage), tools, add_generation_prompt: addGenerationPrompt }));
    } catch (error) {
      throw llmError("LLM_TEMPLATE_RENDER", `the chat template refused the conversation: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Drops what follows the last stop token when it is only whitespace (ChatML's "\n"): it starts the next turn. */
  private cutAfterLastStop(text: string): string {
    let end = -1;
    for (const stop of this.stopTexts) {
      const at = text.lastIndexOf(stop);
      if (at >= 0) end = Math.max(end, at + stop.length);
    }
    return end >= 0 && text.slice(end).trim() === "" ? text.slice(0, end) : text;
  }

  /** Whether the template shows tools, calls and results itself; a template that raises on them does not. */
  private probeNativeTools(): boolean {
    try {
      const withTools = this.renderRaw([{ role: "user", content: "U" }], [probeTool], true);
      const conversation = this.renderRaw(probeConversation, [probeTool], false);
      return withTools.includes("evolver_probe_fn") && conversation.includes("evolver_probe_call") && conversation.includes("evolver_probe_result");
    } catch {
      return false;
    }
  }
}

function compileTemplates(source: ChatTemplateSource): { plain: Template; withTools: Template } {
  const pick = (name: string) => (typeof source === "string" ? source : (source.find((t) => t.name === name)?.template ?? source.find((t) => t.name === "default")?.template));
  const compile = (text: string | undefined) => {
    if (text === undefined) throw llmError("LLM_TEMPLATE_MISMATCH", "the chat template list has no 'default' template");
    try {
      return new Template(text);
    } catch (error) {
      throw llmError("LLM_TEMPLATE_MISMATCH", `the chat template does not parse: ${(error as Error).message}`, { cause: error });
    }
  };
  const plain = compile(pick("default"));
  const toolText = pick("tool_use");
  return { plain, withTools: toolText === pick("default") ? plain : compile(toolText) };
}

function sourceText(source: ChatTemplateSource): string {
  return typeof source === "string" ? source : source.map((t) => t.template).join("\n");
}

/** How the model writes calls, read off the markers its template uses. */
export function detectToolCallSyntax(template: string): ToolCallSyntax {
  if (template.includes("[TOOL_CALLS]")) return "mistral";
  if (template.includes("<tool_call>")) return "hermes";
  if (template.includes("<|python_tag|>") || template.includes("ipython")) return "llama3-json";
  return "hermes";
}

// Numbers in call arguments as Python writes them. HF templates get the arguments as Python's json.loads read them
// and write them with `tojson`, so 1.0 shows as "1.0"; a JavaScript value has no float/int split (1.0 is 1) and
// writes 1e16 as 10000000000000000. So a number whose Python text differs from JavaScript's reaches the template as
// a marked string holding the Python text, and the marks (quoted by tojson, or bare when printed) are replaced by
// that text after rendering. A template that tests such a value's type (`is number`) would see a string.
const NUMBER_MARK = "\u0000evolver-number:";
const NUMBER_END = "\u0000";
const markedNumber = /"\\u0000evolver-number:([^"\\]*)\\u0000"|\u0000evolver-number:([^\u0000]*)\u0000/g;

function argumentsValue(text: string): unknown {
  const marked = mapJsonText(text.trim() === "" ? "{}" : text, {
    number: (token) => {
      const python = pythonNumberText(token);
      return python === JSON.stringify(Number(token)) ? token : JSON.stringify(`${NUMBER_MARK}${python}${NUMBER_END}`);
    },
    pythonSpacing: false,
  });
  if (marked === undefined) return text;
  const value: unknown = JSON.parse(marked);
  return typeof value === "object" && value !== null ? value : text;
}

function unmarkNumbers(rendered: string): string {
  return rendered.includes("evolver-number:") ? rendered.replace(markedNumber, (_, quoted: string | undefined, bare: string | undefined) => quoted ?? bare ?? "") : rendered;
}

/** The message as HF templates read it: call arguments as objects (JSON text that does not parse stays text). */
function toTemplateMessage(message: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: message.role, content: message.content };
  if (message.tool_calls?.length) {
    out.tool_calls = message.tool_calls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.function.name, arguments: argumentsValue(call.function.arguments) },
    }));
  }
  if (message.tool_call_id !== undefined) out.tool_call_id = message.tool_call_id;
  if (message.name !== undefined) out.name = message.name;
  if (message.reasoning_content !== undefined) out.reasoning_content = message.reasoning_content;
  return out;
}

const loweredToolsPreamble =
  "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
  "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
const loweredToolsPostamble =
  "\n</tools>\n\nFor each function call, return a json object with function name and arguments within " +
  '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';

/**
 * For templates with no tool support: tools described in the system turn, calls as <tool_call> JSON text, results
 * and later system notes as user turns (a run of them joined into one, since such templates want turns to alternate).
 */
export function lowerConversation(messages: ChatMessage[], tools: ToolSchema[] | undefined): ChatMessage[] {
  const out: ChatMessage[] = [];
  const describe = tools?.length ? `${loweredToolsPreamble}${tools.map((t) => `\n${JSON.stringify(t)}`).join("")}${loweredToolsPostamble}` : undefined;
  messages.forEach((message, index) => {
    if (message.role === "system" && index === 0) {
      out.push({ role: "system", content: describe ? `${message.content}\n\n${describe}` : message.content });
    } else if (message.role === "assistant") {
      const calls = (message.tool_calls ?? []).map((call) => `<tool_call>\n{"name": ${JSON.stringify(call.function.name)}, "arguments": ${call.function.arguments.trim() || "{}"}}\n</tool_call>`);
      const content = [message.content, ...calls].filter((part) => part !== "").join("\n");
      out.push({ role: "assistant", content, ...(message.reasoning_content !== undefined ? { reasoning_content: message.reasoning_content } : {}) });
    } else {
      const content = message.role === "tool" ? `<tool_response>\n${message.content}\n</tool_response>` : message.content;
      const last = out[out.length - 1];
      if (index > 0 && last?.role === "user") last.content += `\n${content}`;
      else out.push({ role: "user", content });
    }
  });
  if (describe && messages[0]?.role !== "system") out.unshift({ role: "system", content: describe });
  return out;
}

function notAppendOnly(before: string, all: string): EvolverError {
  let at = 0;
  while (at < before.length && before[at] === all[at]) at++;
  const show = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 30), at + 30));
  return llmError(
    "LLM_TEMPLATE_NOT_APPEND_ONLY",
    `the chat template renders the earlier turns differently once later turns follow (at character ${at}: ${show(before)} becomes ${show(all)}); ` +
      "token-in/token-out needs a context that re-renders each prompt, e.g. rollout.context: linear-no-thinking",
    { details: { at } },
  );
}

function startsWith(tokens: number[], prefix: number[]): boolean {
  return prefix.length <= tokens.length && prefix.every((token, i) => tokens[i] === token);
}
