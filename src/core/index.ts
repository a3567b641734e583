export { EvolverError, describeError } from "./errors.js";
export { ToolCall, ChatRole, ChatMessage, ToolSchema } from "./messages.js";
export { mulberry32, deriveSeed, sampleSeeded } from "./random.js";
