// The table of subcommands. Each command's module is imported only when that command runs (or prints its --help), so
// `evolver --help` and a light command never pay for loading the rest (llama.cpp bindings, SQLite, the trainer).
// Add a command by writing its file and listing it here.
import type { CommandEntry } from "./command.js";

export const commands: CommandEntry[] = [
  {
    path: ["ablate"],
    summary: "the ablation: GRPO, +questioning, +navigating, +attributing and all three over seeds; a table and a plot",
    load: async () => (await import("./ablate.js")).ablateCommand,
  },
  {
    path: ["env", "profile"],
    summary: "draft an environment's profile (entities, operations, request templates) from its tool schemas with an LLM, for review",
    load: async () => (await import("./env-profile.js")).envProfileCommand,
  },
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
    path: ["experiences"],
    summary: "the experience pool of a run or a shared pool: list, show ID, export, import",
    load: async () => (await import("./experiences.js")).experiencesCommand,
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
    summary: "list evolve runs (runs show RUN: one run; runs audit RUN: its step verdicts)",
    load: async () => (await import("./runs.js")).runsCommand,
  },
  {
    path: ["runs", "show"],
    summary: "one run: status, config, how to resume it, its key metrics (--metrics a,b; --table: every iteration; --json: all)",
    load: async () => (await import("./runs-show.js")).runsShowCommand,
  },
  {
    path: ["runs", "audit"],
    summary: "a run's audit trail: every judged step, its GOOD/BAD verdict, the judge's reason and the trained advantage",
    load: async () => (await import("./runs-audit.js")).runsAuditCommand,
  },
  {
    path: ["tasks", "synthesize"],
    summary: "self-questioning: explore an environment and synthesize verified training tasks into a pool of a run store",
    load: async () => (await import("./tasks-synthesize.js")).tasksSynthesizeCommand,
  },
  {
    path: ["tasks"],
    summary: "list, show or export synthetic tasks (tasks list|show ID|export --out P [--format jsonl|bfcl])",
    load: async () => (await import("./tasks.js")).tasksCommand,
  },
  {
    path: ["trainer", "serve"],
    summary: "serve the local PyTorch trainer over the Tinker training protocol",
    load: async () => (await import("./trainer-serve.js")).trainerServeCommand,
  },
  {
    path: ["ui"],
    summary: "the dashboard: runs, curves while a run goes, trajectories with step verdicts, evaluations (127.0.0.1:3000)",
    load: async () => (await import("./ui.js")).uiCommand,
  },
  {
    path: ["validate"],
    summary: "check an evolve config as a run would, without running it; print it resolved",
    load: async () => (await import("./validate.js")).validateCommand,
  },
];
