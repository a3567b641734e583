// One synthesis round: explore → propose (hindsight or LLM) → verify by replay → refuse held-out tasks → dedup
// (lexical, then embedding) → the candidates, each with its status and reason, and counts per stage.
import { createHash } from "node:crypto";
import type { ToolSchema } from "../../core/messages.js";
import type { EnvProfile, Environment, TaskSpec } from "../../env/index.js";
import type { Embedder } from "../../llm/index.js";
import type { PolicyModel } from "../../agent/index.js";
import { explore, type ExploreOptions, type ExploreResult } from "./explore.js";
import { EmbeddingDeduper, LexicalDeduper, jaccard, taskText, tokens } from "./dedup.js";
import type { Synthesizer } from "./synthesize.js";
import { replaySolution } from "./verify.js";
import type { Candidate, Exploration, RejectReason } from "./schema.js";

export interface SynthesisCounts {
  explored: number;
  /** Explorations that errored (model or environment failure). */
  exploreErrors: number;
  proposed: number;
  /** Proposals the synthesizer dropped before verification (bad LLM output), by reason. */
  dropped: Partial<Record<RejectReason, number>>;
  verified: number;
  /** Verified or not, by reason: replay errors, failed checks, held-out, duplicates. */
  rejected: Partial<Record<RejectReason, number>>;
  deduplicated: number;
  accepted: number;
}

export interface DiversityReport {
  /** Operations the accepted tasks' solutions use, of the profile's. */
  operations: { used: string[]; of: number };
  entities: { used: string[]; of: number };
  /** Mean token-Jaccard distance between accepted requests (0: all alike, 1: no word shared); over at most 200. */
  querySpread: number;
  distinctWords: number;
}

export interface SynthesisReport {
  explorations: Exploration[];
  candidates: Candidate[];
  counts: SynthesisCounts;
  novelty: number;
  coverage: ExploreResult["coverage"];
  diversity: DiversityReport;
}

/** The exploration settings are explore()'s own; the explorer model and the round's name are passed on to it. */
export interface SynthesizeOptions
  extends Pick<ExploreOptions, "env" | "profile" | "perEntity" | "entities" | "maxSteps" | "temperature" | "maxTokensPerCall" | "toolFormat" | "concurrency" | "seed" | "signal"> {
  explorer: PolicyModel;
  synthesizer: Synthesizer;
  /** Names this round's explorations and tasks (a run: `it-<iteration>`, unique within its pool; keep run ids out
   *  of it, or rollouts seeded from the same seed differ between runs). */
  round: string;
  /** Accepted tasks already in the pool: new ones must differ from them too. */
  existing?: TaskSpec[];
  /** Held-out task specs (val, test): a candidate equal to one is refused. Default: the environment's own. */
  heldOut?: TaskSpec[];
  lexicalThreshold?: number;
  /** Embedding dedup; none without an embedder. */
  embedder?: Embedder;
  embeddingThreshold?: number;
  onProgress?: (stage: "explore" | "synthesize" | "dedup", done: number, total: number) => void;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** What a task is, whatever its words: its setup and its solution. */
function taskIdentity(spec: TaskSpec): string {
  return canonical({ setup: spec.setup, solution: spec.solution });
}

/** A synthetic task's id: a hash of its spec, so the same task found twice has one id. */
export function syntheticTaskId(spec: TaskSpec): string {
  return `syn-${createHash("sha256").update(canonical(spec)).digest("hex").slice(0, 16)}`;
}

/** Every val and test task the environment can write out as a spec. */
export async function heldOutSpecs(env: Environment): Promise<TaskSpec[]> {
  if (!env.taskSpec) return [];
  const specs: TaskSpec[] = [];
  for (const split of ["val", "test"] as const) {
    for (const taskId of await env.listTasks(split)) {
      const spec = await env.taskSpec(taskId).catch(() => undefined);
      if (spec) specs.push(spec);
    }
  }
  return specs;
}

export async function synthesizeTasks(options: SynthesizeOptions): Promise<SynthesisReport> {
  const { env, profile, synthesizer } = options;
  const counts: SynthesisCounts = { explored: 0, exploreErrors: 0, proposed: 0, dropped: {}, verified: 0, rejected: {}, deduplicated: 0, accepted: 0 };
  const reject = (reason: RejectReason) => (counts.rejected[reason] = (counts.rejected[reason] ?? 0) + 1);
  const total = (options.entities?.length ?? profile.entities.length) * options.perEntity;

  const explored = await explore({
    env,
    profile,
    model: options.explorer,
    perEntity: options.perEntity,
    entities: options.entities,
    maxSteps: options.maxSteps,
    temperature: options.temperature,
    maxTokensPerCall: options.maxTokensPerCall,
    toolFormat: options.toolFormat,
    concurrency: options.concurrency,
    seed: options.seed,
    idPrefix: options.round,
    signal: options.signal,
    onExploration: () => {
      counts.explored++;
      options.onProgress?.("explore", counts.explored, total);
    },
  });
  counts.exploreErrors = explored.explorations.filter((e) => e.error !== undefined).length;

  const heldOut = new Set((options.heldOut ?? (await heldOutSpecs(env))).map(taskIdentity));
  const candidates: Candidate[] = [];
  const tools = new Map<string, ToolSchema[]>();
  for (const [index, exploration] of explored.explorations.entries()) {
    options.onProgress?.("synthesize", index + 1, explored.explorations.length);
    if (exploration.error !== undefined) continue;
    const key = canonical(exploration.setup);
    if (!tools.has(key)) tools.set(key, await instanceTools(env, exploration));
    const { proposals, dropped } = await synthesizer.propose({ env, profile, exploration, tools: tools.get(key)!, signal: options.signal });
    for (const [reason, n] of Object.entries(dropped)) counts.dropped[reason as RejectReason] = (counts.dropped[reason as RejectReason] ?? 0) + n;
    for (const proposal of proposals) {
      counts.proposed++;
      const id = syntheticTaskId(proposal.spec);
      const base = { id, env: env.name, explorationId: exploration.id, synthesizer: synthesizer.name, spec: proposal.spec, check: proposal.check };
      const verdict = await replaySolution(env, id, proposal.spec);
      if (!verdict.ok) {
        reject(verdict.reason);
        candidates.push({ ...base, status: "rejected", reason: verdict.reason, detail: verdict.detail });
        continue;
      }
      counts.verified++;
      if (heldOut.has(taskIdentity(proposal.spec))) {
        reject("held_out");
        candidates.push({ ...base, status: "rejected", reason: "held_out", detail: "the same setup and solution as a held-out task" });
        continue;
      }
      candidates.push({ ...base, status: "accepted", ...(verdict.detail === undefined ? {} : { detail: verdict.detail }) });
    }
  }

  // Dedup: the pool's tasks first, so that a new task is measured against everything already kept.
  const lexical = new LexicalDeduper(options.lexicalThreshold ?? 0.9);
  for (const spec of options.existing ?? []) lexical.add(taskText(spec));
  const verified = candidates.filter((c) => c.status === "accepted");
  for (const [i, candidate] of verified.entries()) {
    options.onProgress?.("dedup", i + 1, verified.length);
    const duplicateOf = lexical.add(taskText(candidate.spec));
    if (duplicateOf !== undefined) Object.assign(candidate, { status: "duplicate", reason: "duplicate_lexical", detail: "token Jaccard above the threshold" });
  }
  if (options.embedder) {
    const semantic = new EmbeddingDeduper(options.embedder, options.embeddingThreshold ?? 0.97);
    await semantic.addAll((options.existing ?? []).map(taskText), options.signal);
    const remaining = candidates.filter((c) => c.status === "accepted");
    const kept = await semantic.addAll(remaining.map((c) => taskText(c.spec)), options.signal);
    remaining.forEach((candidate, i) => {
      if (!kept[i]) Object.assign(candidate, { status: "duplicate", reason: "duplicate_embedding", detail: "embedding cosine above the threshold" });
    });
  }
  for (const candidate of candidates) {
    if (candidate.status === "duplicate") (counts.deduplicated++, reject(candidate.reason!));
  }
  counts.accepted = candidates.filter((c) => c.status === "accepted").length;
  const accepted = candidates.filter((c) => c.status === "accepted");
  const entityOf = new Map(explored.explorations.map((e) => [e.id, e.entity]));
  return {
    explorations: explored.explorations,
    candidates,
    counts,
    novelty: explored.novelty,
    coverage: explored.coverage,
    diversity: diversityReport(accepted.map((c) => ({ spec: c.spec, entity: entityOf.get(c.explorationId) ?? "" })), profile),
  };
}

/** The tools an instance of the exploration's setup offers (what an LLM's calls are checked against). */
async function instanceTools(env: Environment, exploration: Exploration): Promise<ToolSchema[]> {
  try {
    const instance = await env.create(`${exploration.id}/tools`, { task: { turns: ["-"], setup: exploration.setup, solution: [] } });
    const tools = instance.initial.tools;
    await instance.release();
    return tools;
  } catch {
    return [];
  }
}

export function diversityReport(tasks: { spec: TaskSpec; entity: string }[], profile: EnvProfile): DiversityReport {
  const operations = new Set(tasks.flatMap((t) => t.spec.solution.flat().flatMap((a) => ("name" in a ? [a.name] : []))));
  const entities = new Set(tasks.map((t) => t.entity).filter((e) => e !== ""));
  const queries = tasks.slice(0, 200).map((t) => tokens(t.spec.turns.join(" ")));
  let distance = 0;
  let pairs = 0;
  for (let i = 0; i < queries.length; i++) for (let j = i + 1; j < queries.length; j++) (distance += 1 - jaccard(queries[i], queries[j])), pairs++;
  return {
    operations: { used: [...operations].sort(), of: profile.entities.reduce((n, e) => n + e.operations.length, 0) },
    entities: { used: [...entities].sort(), of: profile.entities.length },
    querySpread: pairs === 0 ? 0 : distance / pairs,
    distinctWords: new Set(queries.flatMap((q) => [...q])).size,
  };
}
