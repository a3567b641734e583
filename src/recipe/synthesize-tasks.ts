// `evolver tasks synthesize` as a library function: one synthesis round outside an evolve run, into a named pool of
// a run store, with any explorer model and either synthesizer.
import { createPolicyModel, createToolFormat } from "../agent/index.js";
import { deriveSeed } from "../core/random.js";
import { openEnvironment, type EnvProfile } from "../env/index.js";
import { createEmbedder, type Embedder } from "../llm/index.js";
import { hindsightSynthesizer, judgedEnvironment, llmSynthesizer, loadProfile, synthesizeTasks, type SynthesisReport, type SynthesizeOptions } from "../evolve/questioning/index.js";
import { RunStore, TaskPool } from "../store/index.js";
import { EvolverError } from "../core/errors.js";

export interface SynthesizeIntoPoolOptions {
  env: { type: string; path?: string; options?: Record<string, unknown> };
  /** Model spec of the explorer (openai:<model>, a .gguf path, hf:…). */
  explorer: string;
  explorerMode?: "chat" | "tokens";
  baseUrl?: string;
  synthesizer: "hindsight" | "llm";
  /** For synthesizer llm: its model spec (default the explorer's). */
  synthesizerModel?: string;
  /** Explorations per profile entity. */
  n: number;
  entities?: string[];
  profile?: string;
  maxSteps?: number;
  maxTokens?: number;
  temperature?: number;
  seed?: number;
  concurrency?: number;
  toolFormat?: string;
  /** For an environment that grades only its own tasks (a remote service): the judge's model spec (judgedEnvironment). */
  judgeModel?: string;
  judgeThreshold?: number;
  /** Embedder spec or "none". */
  embedder?: string;
  storePath: string;
  pool: string;
  onProgress?: SynthesizeOptions["onProgress"];
}

export async function synthesizeIntoPool(options: SynthesizeIntoPoolOptions): Promise<{ round: string; report: SynthesisReport }> {
  const opened = await openEnvironment(options.env);
  let env = opened;
  const closers: (() => Promise<void>)[] = [async () => opened.close?.()];
  try {
    if (options.judgeModel) {
      const judge = await createPolicyModel(options.judgeModel, { baseUrl: options.baseUrl, mode: "chat" });
      closers.push(() => judge.close());
      if (judge.model.kind !== "chat") throw new EvolverError("CLI_USAGE", `${options.judgeModel} cannot serve as a chat judge`);
      env = judgedEnvironment(opened, judge.model.provider, { threshold: options.judgeThreshold ?? 60 });
    }
    const profile: EnvProfile = options.profile ? loadProfile(options.profile) : await env.profile();
    const explorer = await createPolicyModel(options.explorer, { baseUrl: options.baseUrl, mode: options.explorerMode ?? "chat" });
    closers.push(() => explorer.close());
    let synthesizer = hindsightSynthesizer();
    if (options.synthesizer === "llm") {
      const model = options.synthesizerModel ?? options.explorer;
      const loaded = model === options.explorer && explorer.model.kind === "chat" ? explorer : await createPolicyModel(model, { baseUrl: options.baseUrl, mode: "chat" });
      if (loaded !== explorer) closers.push(() => loaded.close());
      if (loaded.model.kind !== "chat") throw new EvolverError("CLI_USAGE", `${model} cannot serve as a chat synthesizer`);
      synthesizer = llmSynthesizer({ provider: loaded.model.provider });
    }
    let embedder: Embedder | undefined;
    if ((options.embedder ?? "none") !== "none") {
      embedder = await createEmbedder(options.embedder!);
      closers.push(async () => embedder?.close?.());
    }
    const store = new RunStore(options.storePath);
    closers.push(async () => store.close());
    const pool = new TaskPool(store.db);
    const round = `${new Date().toISOString().replace(/[-:.]/g, "").slice(0, 15)}-${(options.seed ?? 0).toString(36)}`;
    const report = await synthesizeTasks({
      env,
      profile,
      explorer: explorer.model,
      synthesizer,
      perEntity: options.n,
      entities: options.entities,
      maxSteps: options.maxSteps ?? 8,
      temperature: options.temperature ?? 1.2,
      maxTokensPerCall: options.maxTokens ?? 512,
      toolFormat: createToolFormat((options.toolFormat ?? "native") as "native"),
      concurrency: options.concurrency ?? 8,
      seed: deriveSeed(options.seed ?? 0, "tasks-synthesize"),
      round: `${options.pool}/${round}`,
      existing: pool.list(options.pool, { status: "accepted" }).map((t) => t.spec),
      embedder,
      onProgress: options.onProgress,
    });
    pool.saveRound(options.pool, round, report);
    return { round, report };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}
