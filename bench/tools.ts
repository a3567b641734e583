// Tool retrieval over a large action space (issue 17): BFCL's base tasks in a space of 100, 1,000 and 10,000 tools
// (bfcl-v3 toolCount: the task's own API families, the other families, then seeded distractor APIs), the offline
// default embedder (use-lite), k = 8.
// - recall@k: of the tools each ground-truth call needs, the share among the k retrieved for its turn's request
//   (retrieval alone: embedding plus shared words, against the embedding alone; also at 2k), and among those plus
//   the tools the episode called before (what tool-retrieval offers);
// - prompt tokens per step: the Qwen2 template's system turn with the offered tools (k + used + search_tools) against
//   every tool, counted with the tiny model's byte-level tokenizer (a real BPE vocabulary needs some 3-4x fewer
//   tokens for both; the ratio is what carries over);
// - retrieval time per step: the index search alone (p99; goal < 5 ms at 10,000 tools), against the exact scan of
//   every vector in the same process, and the query embedding, which tool-retrieval pays once per new request;
// - the coarse pass's agreement with the exact scan (overlap of the top 8).
// Tool vectors are cached in .evolver/cache: the first run at 10,000 tools embeds them all (on a loaded 2-core
// machine, the better part of an hour), later runs read them. `--quick` stops at 1,000 tools. Either way the search
// time at 10,000 tools is also measured on an index of random unit vectors with the real tools' words (the search
// costs the same whatever the vectors say), so the goal is checked without embedding 10,000 tools.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lexicalTerms, searchToolsSchema, ToolEmbeddings, ToolIndex, toolText } from "../src/agent/index.js";
import { deriveSeed, mulberry32, sampleSeeded } from "../src/core/random.js";
import type { ToolSchema } from "../src/core/messages.js";
import { BfclEnvironment, BFCL_SYSTEM_PROMPT, loadBfclGroundTruth, loadBfclQuestions, parseBfclCallsAsJson } from "../src/env/index.js";
import { createEmbedder, DEFAULT_EMBEDDER, pythonJsonDumps, Qwen2ChatTemplate, Tokenizer, writeTinyModel } from "../src/llm/index.js";
import type { BenchResult } from "./result.js";

const K = 8;

/** Search time at 10,000 tools on random unit vectors with the real tool texts: what the goal is about. */
async function searchTimeAt10k(queries: Map<string, Float32Array>, requests: string[]): Promise<BenchResult> {
  const env = new BfclEnvironment({ categories: ["base"], toolCount: 10_000 });
  const tools = (await env.create((await env.listTasks("test"))[0])).initial.tools;
  const random = mulberry32(17);
  const d = queries.values().next().value!.length;
  const vectors = tools.map(() => {
    const v = Float32Array.from({ length: d }, () => random() - 0.5);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const index = new ToolIndex(tools, vectors, tools.map(toolText));
  const searchMs: number[] = [];
  const searchCpuMs: number[] = [];
  const exactCpuMs: number[] = [];
  for (let repeat = 0; repeat < 5; repeat++) {
    for (const request of requests) {
      const terms = lexicalTerms(request);
      let cpu = process.cpuUsage();
      const started = performance.now();
      index.search(queries.get(request)!, K, { terms });
      searchMs.push(performance.now() - started);
      searchCpuMs.push(cpuMs(process.cpuUsage(cpu)));
      cpu = process.cpuUsage();
      index.search(queries.get(request)!, K, { terms, exact: true });
      exactCpuMs.push(cpuMs(process.cpuUsage(cpu)));
    }
  }
  // On a shared machine a wall-clock p99 is the scheduler's (a search of ~1 ms waits tens of ms for a core now and
  // then); the CPU time the search itself takes is what the goal is about, so the goal is checked on it and the
  // wall-clock figures are shown beside it.
  const p99 = percentile(searchCpuMs, 99);
  return {
    name: `10,000 tools, random vectors: search CPU p99 (wall p50 ${percentile(searchMs, 50).toFixed(2)}, p99 ${percentile(searchMs, 99).toFixed(1)} ms)`,
    value: p99,
    unit: "ms",
    baseline: { name: "exact scan CPU p99", value: percentile(exactCpuMs, 99) },
    ratio: p99 / percentile(exactCpuMs, 99),
    goal: "< 5 ms",
    ok: p99 < 5,
  };
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function run({ quick }: { quick: boolean }): Promise<BenchResult[]> {
  const counts = quick ? [100, 1000] : [100, 1000, 10_000];
  const taskCount = quick ? 24 : 80;
  const embedder = await createEmbedder(DEFAULT_EMBEDDER);
  const embeddings = new ToolEmbeddings({ embedder, cacheDir: ".evolver/cache" });
  const modelDir = mkdtempSync(join(tmpdir(), "evolver-bench-tools-"));
  writeTinyModel(modelDir, { formats: ["hf"] });
  const tokenizer = Tokenizer.fromFile(modelDir);
  const template = new Qwen2ChatTemplate({ tokenizer });
  rmSync(modelDir, { recursive: true, force: true });
  const toolTokens = new WeakMap<ToolSchema, number>();
  const tokensOf = (tool: ToolSchema) => {
    let n = toolTokens.get(tool);
    if (n === undefined) toolTokens.set(tool, (n = tokenizer.encode(`\n${pythonJsonDumps(tool)}`).length));
    return n;
  };

  const truth = loadBfclGroundTruth("base");
  const questions = new Map(loadBfclQuestions("base").map((entry) => [entry.id, entry]));
  const taskIds = sampleSeeded([...questions.keys()], taskCount, deriveSeed("bench-tools"));
  const requestOf = (taskId: string, turn: number) => questions.get(taskId)!.question[turn].filter((m) => m.role === "user").at(-1)?.content ?? "";
  // Each turn's request is embedded once, one at a time, as tool-retrieval does when a new request arrives.
  const queries = new Map<string, Float32Array>();
  const queryMs: number[] = [];
  for (const taskId of taskIds) {
    for (let turn = 0; turn < truth.get(taskId)!.length; turn++) {
      const text = requestOf(taskId, turn);
      if (queries.has(text)) continue;
      const started = performance.now();
      queries.set(text, (await embedder.embed([text]))[0]);
      queryMs.push(performance.now() - started);
    }
  }
  const results: BenchResult[] = [];

  for (const count of counts) {
    const env = new BfclEnvironment({ categories: ["base"], toolCount: count });
    const indexes = new Map<string, ToolIndex>();
    let needed = 0, retrieved = 0, retrievedWide = 0, embeddingOnly = 0, offeredOrUsed = 0, overlap = 0, searches = 0, buildMs = 0;
    const searchMs: number[] = [];
    const exactMs: number[] = [];
    const offeredTokens: number[] = [];
    const allTokens: number[] = [];
    for (const taskId of taskIds) {
      const instance = await env.create(taskId);
      const tools = instance.initial.tools;
      const key = tools.map((t) => t.function.name).join("\n");
      let index = indexes.get(key);
      if (!index) {
        const vectors = await embeddings.vectorsOf(tools);
        const started = performance.now();
        index = new ToolIndex(tools, vectors, tools.map(toolText));
        buildMs = Math.max(buildMs, performance.now() - started);
        indexes.set(key, index);
      }
      const used = new Set<string>();
      const allToolTokens = tools.reduce((sum, tool) => sum + tokensOf(tool), 0);
      truth.get(taskId)!.forEach((turnCalls, turn) => {
        if (turnCalls.length === 0) return;
        const request = requestOf(taskId, turn);
        const messages = [{ role: "system" as const, content: BFCL_SYSTEM_PROMPT }, { role: "user" as const, content: request }];
        const base = template.render(messages, { tools: [searchToolsSchema], addGenerationPrompt: true }).length - tokensOf(searchToolsSchema);
        const query = queries.get(request)!;
        const terms = lexicalTerms(request);
        const namesOf = (hits: { index: number }[]) => new Set(hits.map((h) => index.tools[h.index].function.name));
        for (let repeat = 0; repeat < 3; repeat++) {
          let started = performance.now();
          const hits = index.search(query, K, { terms });
          searchMs.push(performance.now() - started);
          started = performance.now();
          const exact = index.search(query, K, { terms, exact: true });
          exactMs.push(performance.now() - started);
          if (repeat > 0) continue;
          searches += 1;
          overlap += hits.filter((h) => exact.some((e) => e.index === h.index)).length / Math.min(K, exact.length);
          const names = namesOf(hits);
          const wide = namesOf(index.search(query, 2 * K, { terms }));
          const embeddingAlone = namesOf(index.search(query, K));
          const offered = tools.filter((t) => names.has(t.function.name) || used.has(t.function.name));
          offeredTokens.push(base + offered.reduce((sum, tool) => sum + tokensOf(tool), 0) + tokensOf(searchToolsSchema));
          allTokens.push(base + allToolTokens);
          for (const call of parseBfclCallsAsJson(`[${turnCalls.join(", ")}]`)) {
            needed += 1;
            if (names.has(call.name)) retrieved += 1;
            if (wide.has(call.name)) retrievedWide += 1;
            if (embeddingAlone.has(call.name)) embeddingOnly += 1;
            if (names.has(call.name) || used.has(call.name)) offeredOrUsed += 1;
          }
          for (const call of parseBfclCallsAsJson(`[${turnCalls.join(", ")}]`)) used.add(call.name);
        }
      });
      await instance.release();
    }
    const label = `${count.toLocaleString("en-US")} tools`;
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    results.push(
      { name: `${label}: recall@${K}, retrieval alone`, value: retrieved / needed, unit: `of ${needed} needed calls`, baseline: { name: "embedding without words", value: embeddingOnly / needed }, ratio: retrieved / embeddingOnly },
      { name: `${label}: recall@${2 * K}, retrieval alone`, value: retrievedWide / needed, unit: "" },
      { name: `${label}: recall@${K} + tools used earlier`, value: offeredOrUsed / needed, unit: "(what is offered)" },
      {
        name: `${label}: prompt tokens per step`,
        value: mean(offeredTokens),
        unit: "tokens",
        baseline: { name: "all tools", value: mean(allTokens) },
        ratio: mean(offeredTokens) / mean(allTokens),
      },
      {
        name: `${label}: search p99 (no query embedding)`,
        value: percentile(searchMs, 99),
        unit: "ms",
        baseline: { name: "exact scan p99", value: percentile(exactMs, 99) },
        ratio: percentile(searchMs, 99) / percentile(exactMs, 99),
        ...(count === 10_000 ? { goal: "< 5 ms", ok: percentile(searchMs, 99) < 5 } : {}),
      },
      { name: `${label}: search p50`, value: percentile(searchMs, 50), unit: "ms" },
      { name: `${label}: top-${K} overlap with the exact scan`, value: overlap / searches, unit: "" },
      { name: `${label}: index build (once per tool set)`, value: buildMs, unit: "ms" },
    );
  }
  results.push(await searchTimeAt10k(queries, [...queries.keys()]));
  results.push(
    { name: `query embedding p50 (once per new request)`, value: percentile(queryMs, 50), unit: "ms" },
    { name: `query embedding p99`, value: percentile(queryMs, 99), unit: "ms" },
    { name: `tool embeddings cached`, value: embeddings.size, unit: "vectors" },
  );
  await embedder.close?.();
  return results;
}
