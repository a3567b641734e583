// The library API of Evolver. Each folder's index.ts names its public surface.
export * from "./core/index.js";
export * from "./env/index.js";
export * from "./llm/index.js";
export * from "./agent/index.js";
export * from "./evolve/attributing/index.js";
export * from "./train/index.js";
export * from "./store/index.js";
export * from "./recipe/index.js";
