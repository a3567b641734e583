// The table of subcommands. Each command's module is imported only when that command runs (or prints its --help), so
// `evolver --help` and a light command never pay for loading the rest (llama.cpp bindings, SQLite, the trainer).
// Add a command by writing its file and listing it here.
import type { CommandEntry } from "./command.js";

export const commands: CommandEntry[] = [
  {
    path: ["env", "replay"],
    summary: "replay BFCL entries' calls (vector lines or question entries) and write result/state vectors",
    load: async () => (await import("./env-replay.js")).envReplayCommand,
  },
  {
    path: ["env", "serve"],
    summary: "serve environments over the env-service HTTP protocol (AgentEvolver-compatible)",
    load: async () => (await import("./env-serve.js")).envServeCommand,
  },
  {
    path: ["eval"],
    summary: "evaluate a model (or a run's checkpoint) on an environment: avg@k, best@k and per-turn accuracy per category",
    load: async () => (await import("./eval.js")).evalCommand,
  },
  {
    path: ["evolve"],
    summary: "run the evolve loop (rollouts → step attribution → advantages → policy updates → evaluation)",
    load: async () => (await import("./evolve.js")).evolveCommand,
  },
  {
    path: ["model", "serve"],
    summary: "serve a GGUF model (path or hf: URI) on an OpenAI-compatible HTTP endpoint",
    load: async () => (await import("./model-serve.js")).modelServeCommand,
  },
  {
    path: ["model", "tiny"],
    summary: "write a tiny random-weight Qwen2 model (GGUF + HF safetensors)",
    load: async () => (await import("./model-tiny.js")).modelTinyCommand,
  },
  {
    path: ["runs"],
    summary: "list evolve runs, or show one (runs show RUN)",
    load: async () => (await import("./runs.js")).runsCommand,
  },
  {
    path: ["trainer", "serve"],
    summary: "serve the local PyTorch trainer over the Tinker training protocol",
    load: async () => (await import("./trainer-serve.js")).trainerServeCommand,
  },
  {
    path: ["validate"],
    summary: "check an evolve config as a run would, without running it; print it resolved",
    load: async () => (await import("./validate.js")).validateCommand,
  },
];
