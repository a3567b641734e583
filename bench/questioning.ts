// Self-questioning: hindsight synthesis on BFCL (no LLM) with a deterministic explorer that plays the training
// entries' ground-truth calls of the explored class, against the explorations alone (same explorer, same count);
// acceptance rate; and lexical dedup (MinHash + LSH, exact Jaccard to decide) of 10,000 candidates against tokenizing
// the same texts.
import { BfclEnvironment } from "../src/env/index.js";
import { groundTruthCalls, playingExplorer } from "../src/evolve/questioning/test-support/playing-explorer.js";
import { mulberry32 } from "../src/core/random.js";
import { explore, hindsightSynthesizer, jaccard, LexicalDeduper, synthesizeTasks, taskText, tokens, writeQuery } from "../src/evolve/questioning/index.js";
import type { BenchResult } from "./result.js";

export async function run(options: { quick: boolean }): Promise<BenchResult[]> {
  const env = new BfclEnvironment({ categories: ["base"] });
  const profile = await env.profile();
  const calls = await groundTruthCalls(env);
  const perEntity = options.quick ? 4 : 16;
  const common = { env, profile, perEntity, maxSteps: 5, temperature: 1, seed: 11, concurrency: 8 };
  const exploreStart = performance.now();
  await explore({ ...common, model: { kind: "chat", provider: playingExplorer(calls) }, idPrefix: "bench-explore" });
  const exploreSeconds = (performance.now() - exploreStart) / 1000;
  const start = performance.now();
  const report = await synthesizeTasks({ ...common, explorer: { kind: "chat", provider: playingExplorer(calls) }, synthesizer: hindsightSynthesizer(), round: "bench", heldOut: [] });
  const seconds = (performance.now() - start) / 1000;
  const accepted = report.counts.accepted;

  const n = options.quick ? 2_000 : 10_000;
  // Candidates as hindsight writes them: 1-3 ground-truth calls, a request from the profile's templates.
  const random = mulberry32(5);
  const texts = Array.from({ length: n }, () => {
    const turn = Array.from({ length: 1 + Math.floor(random() * 3) }, () => calls[Math.floor(random() * calls.length)]);
    return taskText({ turns: [writeQuery(turn, profile)], setup: {}, solution: [turn] });
  });
  const tokenizeStart = performance.now();
  for (const text of texts) tokens(text);
  const tokenizeMs = performance.now() - tokenizeStart;
  const dedupStart = performance.now();
  const deduper = new LexicalDeduper(0.9);
  let kept = 0;
  for (const text of texts) if (deduper.add(text) === undefined) kept++;
  const dedupMs = performance.now() - dedupStart;
  // All pairs, on the first 1,000 only, extrapolated quadratically to n.
  const sample = texts.slice(0, 1000).map(tokens);
  const pairsStart = performance.now();
  const keptSets: Set<string>[] = [];
  for (const set of sample) if (!keptSets.some((other) => jaccard(set, other) >= 0.9)) keptSets.push(set);
  const allPairsMs = (performance.now() - pairsStart) * (n / sample.length) ** 2;

  return [
    {
      name: `hindsight synthesis on BFCL (${report.counts.explored} explorations)`,
      value: accepted / seconds,
      unit: "verified tasks/s",
      baseline: { name: "the explorations alone (s)", value: exploreSeconds },
      ratio: seconds / exploreSeconds,
      goal: "synthesis (propose, replay, dedup) costs a small multiple of exploring",
    },
    { name: "acceptance rate (accepted / proposed)", value: report.counts.proposed === 0 ? 0 : accepted / report.counts.proposed, unit: "", goal: "> 0.5 of hindsight proposals", ok: report.counts.proposed > 0 && accepted / report.counts.proposed > 0.5 },
    { name: "verified / proposed (before dedup)", value: report.counts.proposed === 0 ? 0 : report.counts.verified / report.counts.proposed, unit: "" },
    { name: "operation coverage of the profile", value: report.coverage.fraction, unit: "" },
    {
      name: `lexical dedup of ${n} candidates (${kept} kept)`,
      value: dedupMs / 1000,
      unit: "s",
      baseline: { name: "all pairs (1,000 measured, extrapolated)", value: allPairsMs / 1000 },
      ratio: dedupMs / allPairsMs,
      goal: "well under all pairs (< 0.5)",
      ok: dedupMs / allPairsMs < 0.5,
    },
    { name: "tokenizing the same texts", value: tokenizeMs / 1000, unit: "s", ratio: dedupMs / tokenizeMs },
  ];
}
