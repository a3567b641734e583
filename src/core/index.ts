export { EvolverError, describeError } from "./errors.js";
export { ToolCall, ChatRole, ChatMessage, ToolSchema } from "./messages.js";
export { mulberry32, deriveSeed, sampleSeeded } from "./random.js";
export { VectorIndex, EXACT_LIMIT, dot, type VectorHit, type VectorSearchOptions } from "./vector-index.js";
