export { EvolverError, describeError } from "./errors.js";
export { ToolCall, ChatRole, ChatMessage, ToolSchema } from "./messages.js";
