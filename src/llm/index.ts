// The model layer: provider and sampler interfaces, tokenizer and chat template, providers, tiny model files.
export * from "./types.js";
export type { Embedder } from "./embedding-types.js";
export { writeTinyModel, tinyModelShapes, TinyModelOptions, type TinyModelFiles } from "./tiny-model.js";
export { writeGguf, gguf, type GgufValue, type GgufTensor, type GgufTensorType } from "./gguf-writer.js";
export { writeSafetensors, readSafetensors, type SafetensorsTensor, type LoadedTensor } from "./safetensors.js";
export { qwen2ChatTemplate } from "./qwen2-jinja.js";
export { Tokenizer, type EncodeOptions } from "./tokenizer.js";
export { Qwen2ChatTemplate, qwenDefaultSystemPrompt, type Qwen2ChatTemplateOptions } from "./chat-template.js";
export { JinjaChatTemplate, lowerConversation, detectToolCallSyntax, type JinjaChatTemplateOptions, type ChatTemplateSource } from "./jinja-template.js";
export { loadModelTokenizer, openModelTokenizer, readTokenizerFiles, type ModelTokenizer, type TokenizerFiles } from "./model-tokenizer.js";
export {
  createChatTemplate,
  loadChatTemplate,
  ggufChatTemplate,
  configChatTemplate,
  configSpecialTokens,
  type ChatTemplateSpec,
  type LoadedChatTemplate,
  type LoadChatTemplateOptions,
} from "./model-template.js";
export { pythonJsonDumps, pythonJsonText } from "./python-json.js";
export { llmErrorCodes, type LlmErrorCode } from "./errors.js";
export { contextOverflowError } from "./errors.js";
export { EmbeddedModel, type EmbeddedModelOptions, type GenerateRequest, type GenerateResult } from "./embedded-model.js";
export { EmbeddedProvider, createEmbeddedProvider, type EmbeddedProviderOptions } from "./embedded-provider.js";
export { OpenAIProvider, createOpenAIProvider, type OpenAIProviderOptions } from "./openai-provider.js";
export { ScriptedProvider, type ScriptedReply, type ScriptedProviderOptions } from "./scripted-provider.js";
export {
  toolCallSyntaxes,
  parseToolCalls,
  toolArgumentsProblem,
  type ToolCallEvent,
  type ToolCallStreamParser,
  type ToolCallParserOptions,
  type ToolCallSyntaxSpec,
  type ParsedText,
} from "./tool-calls.js";
export { toolCallGrammar, toGrammarSchema, type ForcedToolChoice } from "./tool-call-grammar.js";
export { startModelServer, type ModelServer, type ModelServerOptions } from "./serve.js";
export { Semaphore } from "./semaphore.js";
export { OfflineEmbedder, OFFLINE_EMBEDDER_ID, unitVector, type OfflineEmbedderOptions } from "./embedder-offline.js";
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from "./embedder-openai.js";
export { createEmbedder, EmbedderSpec, DEFAULT_EMBEDDER } from "./embedders.js";
export { chatStructured, parseStructured, readJsonAnswer, type StructuredRequest, type StructuredOutcome } from "./structured.js";
