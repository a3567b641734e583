// A model's chat template from its files: tokenizer_config.json's chat_template (or a template given instead) over
// the model's tokenizer, or the GGUF's tokenizer.chat_template over llama.cpp's. One choice of renderer: the Qwen2
// fast path for exactly Qwen2.5's template text, the Jinja renderer for every other.
import { existsSync, readFileSync } from "node:fs";
import { llmError } from "./errors.js";
import { Qwen2ChatTemplate } from "./chat-template.js";
import { JinjaChatTemplate, type ChatTemplateSource } from "./jinja-template.js";
import { openModelTokenizer, readTokenizerFiles, type ModelTokenizer, type TokenizerFiles } from "./model-tokenizer.js";
import { qwen2ChatTemplate } from "./qwen2-jinja.js";
import type { ChatTemplate, TextTokenizer } from "./types.js";

/** Tokens that end a turn in the families we know; those the template writes also stop sampling. */
const END_OF_TURN_TEXTS = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<end_of_turn>", "</s>"];

export interface ChatTemplateSpec {
  template: ChatTemplateSource;
  tokenizer: TextTokenizer;
  /** bos_token, eos_token, ... as the template reads them. */
  specialTokens: Record<string, string>;
  /** Further template variables (e.g. enable_thinking). */
  variables?: Record<string, unknown>;
}

/** The Qwen2 fast path for Qwen2.5's own template text (byte-identical output, tested), else the Jinja renderer. */
export function createChatTemplate(spec: ChatTemplateSpec): ChatTemplate {
  if (spec.template === qwen2ChatTemplate && !spec.variables) return new Qwen2ChatTemplate({ tokenizer: spec.tokenizer });
  const text = typeof spec.template === "string" ? spec.template : spec.template.map((t) => t.template).join("\n");
  const eos = spec.specialTokens.eos_token;
  const stopTexts = END_OF_TURN_TEXTS.filter((stop) => text.includes(stop));
  // Templates that end turns with the eos_token variable (Llama 2, Mistral), or write no marker we know.
  if (eos && !stopTexts.includes(eos) && (stopTexts.length === 0 || text.includes("eos_token"))) stopTexts.push(eos);
  return new JinjaChatTemplate({ template: spec.template, tokenizer: spec.tokenizer, specialTokens: spec.specialTokens, stopTexts, variables: spec.variables });
}

export interface LoadedChatTemplate {
  template: ChatTemplate;
  tokenizer: ModelTokenizer;
  files: TokenizerFiles;
}

export interface LoadChatTemplateOptions {
  /** A .jinja file (or the template text) to use instead of tokenizer_config.json's (which some models lack). */
  chatTemplate?: string;
  variables?: Record<string, unknown>;
  engine?: "bpe" | "hf";
}

/** The chat template of a model folder, tokenizer.json path or tokenizer package. */
export function loadChatTemplate(source: string, options: LoadChatTemplateOptions = {}): LoadedChatTemplate {
  const files = readTokenizerFiles(source);
  const tokenizer = openModelTokenizer(files, options.engine);
  const template = readChatTemplateOption(options.chatTemplate) ?? configChatTemplate(files);
  const specialTokens = configSpecialTokens(files.tokenizerConfig);
  return { template: createChatTemplate({ template, tokenizer, specialTokens, variables: options.variables }), tokenizer, files };
}

/** The chat_template of tokenizer_config.json (or of chat_template.jinja beside it). */
export function configChatTemplate(files: TokenizerFiles): ChatTemplateSource {
  const value = files.tokenizerConfig.chat_template;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value as { name: string; template: string }[];
  const beside = `${files.dir}/chat_template.jinja`;
  if (existsSync(beside)) return readFileSync(beside, "utf8");
  throw llmError(
    "LLM_TEMPLATE_MISSING",
    `${files.dir} has no chat template (tokenizer_config.json has no chat_template, and there is no chat_template.jinja); give the model's template as a .jinja file (policy.chat_template, --chat-template)`,
    { details: { dir: files.dir } },
  );
}

function readChatTemplateOption(option: string | undefined): string | undefined {
  if (option === undefined) return undefined;
  if (option.includes("{%") || option.includes("{{")) return option;
  try {
    return readFileSync(option, "utf8");
  } catch (error) {
    throw llmError("LLM_TEMPLATE_MISSING", `cannot read the chat template ${option}: ${(error as Error).message}`, { cause: error });
  }
}

/** bos_token, eos_token, ... of tokenizer_config.json (written as text or as {content}). */
export function configSpecialTokens(config: Record<string, unknown>): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.endsWith("_token")) continue;
    const text = typeof value === "string" ? value : (value as { content?: unknown } | null)?.content;
    if (typeof text === "string") tokens[key] = text;
  }
  return tokens;
}


/** The chat template a GGUF model carries, over llama.cpp's own tokenizer. */
export function ggufChatTemplate(model: { id: string; tokenizer: TextTokenizer; chatTemplateSpec(): { template?: string; specialTokens: Record<string, string> } }, chatTemplate?: string): ChatTemplate {
  const spec = model.chatTemplateSpec();
  const template = readChatTemplateOption(chatTemplate) ?? spec.template;
  if (template === undefined) {
    throw llmError("LLM_TEMPLATE_MISSING", `${model.id} carries no chat template (tokenizer.chat_template); give the model's template as a .jinja file`, {
      details: { model: model.id },
    });
  }
  return createChatTemplate({ template, tokenizer: model.tokenizer, specialTokens: spec.specialTokens });
}
