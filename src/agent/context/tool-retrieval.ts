// tool-retrieval:k — for environments with more tools than a prompt can hold. The history goes into the prompt as
// it happened (as `linear`), but the tools do not: each model call is offered the k tools nearest to the current
// request (the latest user message) in an index over the environment's tool schemas (embeddings plus shared words,
// tool-index.ts), plus every tool
// the episode already called or found, plus one meta-tool, `search_tools(query)`, which the rollout answers
// itself (it never reaches the environment) with the names and descriptions of the best matches. A tool found by
// a search is offered from the next call on. A call of a tool that was not offered still goes to the environment,
// which knows every tool it offers.
//
// Everything a call is offered is a function of the history and the environment's tools, so a rollout can be
// replayed; the offered names are recorded on each step, and a token rollout starts a new sequence whenever the
// offered tools change (the prompt is then not an extension of the previous one; agent/trajectory.ts).
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { EvolverError } from "../../core/errors.js";
import type { ChatMessage, ToolCall, ToolSchema } from "../../core/messages.js";
import { createEmbedder, DEFAULT_EMBEDDER } from "../../llm/embedders.js";
import type { Embedder } from "../../llm/embedding-types.js";
import { ToolEmbeddings, toolText } from "./tool-embeddings.js";
import { lexicalTerms, ToolIndex } from "./tool-index.js";
import type { ContextStrategy, ToolSelection } from "./types.js";

export const SEARCH_TOOLS_NAME = "search_tools";

export const searchToolsSchema: ToolSchema = {
  type: "function",
  function: {
    name: SEARCH_TOOLS_NAME,
    description:
      "Search every tool available to you, including those not listed here, by what it does. Answers the names and " +
      "descriptions of the best matches; a tool found this way is listed from your next message on and can be called.",
    parameters: {
      type: "object",
      properties: { query: { type: "string", description: "What you want to do, in a few words." } },
      required: ["query"],
    },
  },
};

export interface ToolRetrievalOptions {
  /** Tools retrieved per call. Default 8. */
  k?: number;
  /** Matches a search_tools call answers. Default 5. */
  searchResults?: number;
  /** An embedder already open; else the one `embedderSpec` names, loaded on first use and shared by the process. */
  embedder?: Embedder;
  /** An embedder spec (use-lite | openai:<model>, config rollout.tool_retrieval.embedder); default use-lite. */
  embedderSpec?: { spec: string; baseUrl?: string };
  /** Disk cache of tool vectors; default .evolver/cache under the working directory; null keeps them in memory. */
  cacheDir?: string | null;
}

export const DEFAULT_TOOL_RETRIEVAL_K = 8;

export function toolRetrievalContext(options: ToolRetrievalOptions = {}): ContextStrategy {
  const k = options.k ?? DEFAULT_TOOL_RETRIEVAL_K;
  if (!Number.isInteger(k) || k < 1) throw new EvolverError("AGENT_CONTEXT", `tool-retrieval needs k >= 1, got ${k}`);
  const searchResults = options.searchResults ?? 5;
  const cacheDir = options.cacheDir === null ? undefined : resolve(options.cacheDir ?? ".evolver/cache");
  const retriever = new ToolRetriever(options.embedder ?? options.embedderSpec ?? { spec: DEFAULT_EMBEDDER }, cacheDir);

  const selection: ToolSelection = {
    metaTools: [searchToolsSchema],
    async select({ history, available, signal }) {
      const started = performance.now();
      const index = await retriever.index(available, signal);
      const indexed = performance.now();
      const request = latestRequest(history);
      const query = request === undefined ? undefined : await retriever.embedQuery(request, signal);
      const embedded = performance.now();
      const hits = query === undefined ? [] : index.search(query, k, { terms: lexicalTerms(request!) });
      const keep = new Set([...hits.map((hit) => index.tools[hit.index].function.name), ...namesSeen(history)]);
      const tools = index.tools.filter((tool) => keep.has(tool.function.name));
      return { tools, indexMs: indexed - started, queryMs: embedded - indexed, searchMs: performance.now() - embedded };
    },
    async answer(call, available, signal) {
      const query = searchQuery(call);
      if (query === undefined) return `Error: ${SEARCH_TOOLS_NAME} takes {"query": "<what you want to do>"}`;
      const index = await retriever.index(available, signal);
      const vector = await retriever.embedQuery(query, signal);
      // A query that names a tool finds it first, whatever the embedding says.
      const named = index.tools.filter((tool) => tool.function.name === query.trim());
      const hits = index.search(vector, searchResults, { terms: lexicalTerms(query) }).map((hit) => index.tools[hit.index]);
      const found = [...new Set([...named, ...hits])].slice(0, searchResults);
      return JSON.stringify(found.map((tool) => ({ name: tool.function.name, description: tool.function.description })));
    },
  };

  return {
    name: k === DEFAULT_TOOL_RETRIEVAL_K ? "tool-retrieval" : `tool-retrieval:${k}`,
    appendOnly: true,
    build: ({ history }) => [...history],
    toolSelection: selection,
  };
}

/** The current request: the latest user message with text. */
function latestRequest(history: readonly ChatMessage[]): string | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (history[i].role === "user" && history[i].content.trim() !== "") return history[i].content;
  return undefined;
}

/** Tools the episode called, and tools its searches found, in order of first appearance. */
export function namesSeen(history: readonly ChatMessage[]): string[] {
  const names = new Set<string>();
  for (const message of history) {
    for (const call of message.tool_calls ?? []) if (call.function.name !== SEARCH_TOOLS_NAME) names.add(call.function.name);
    if (message.role === "tool" && message.name === SEARCH_TOOLS_NAME && message.content.startsWith("[")) {
      try {
        for (const found of JSON.parse(message.content) as { name?: unknown }[]) if (typeof found?.name === "string") names.add(found.name);
      } catch {
        /* not a search answer */
      }
    }
  }
  return [...names];
}

function searchQuery(call: ToolCall): string | undefined {
  try {
    const args = JSON.parse(call.function.arguments) as { query?: unknown };
    return typeof args?.query === "string" && args.query.trim() !== "" ? args.query : undefined;
  } catch {
    return undefined;
  }
}

/** Embedders opened by spec, one per spec and base URL for the process (loading the offline model takes seconds). */
const sharedEmbedders = new Map<string, Promise<Embedder>>();
const sharedEmbeddings = new Map<string, ToolEmbeddings>();

/** Indexes per tool set and query vectors, over one embedder and one shared vector cache. */
class ToolRetriever {
  private embeddings?: Promise<ToolEmbeddings>;
  private readonly byArray = new WeakMap<readonly ToolSchema[], Promise<ToolIndex>>();
  private readonly byKey = new Map<string, Promise<ToolIndex>>();
  private readonly queries = new Map<string, Promise<Float32Array>>();

  constructor(
    private readonly embedder: Embedder | { spec: string; baseUrl?: string },
    private readonly cacheDir: string | undefined,
  ) {}

  private toolEmbeddings(): Promise<ToolEmbeddings> {
    this.embeddings ??= (async () => {
      const embedder = "embed" in this.embedder ? this.embedder : await sharedEmbedder(this.embedder);
      const key = `${embedder.id}\u0000${this.cacheDir ?? ""}`;
      let shared = sharedEmbeddings.get(key);
      if (!shared || shared.embedder !== embedder) {
        shared = new ToolEmbeddings({ embedder, cacheDir: this.cacheDir });
        sharedEmbeddings.set(key, shared);
      }
      return shared;
    })();
    return this.embeddings;
  }

  /** The index of a tool set; an array seen before, or one with the same tools, reuses its index. */
  index(tools: readonly ToolSchema[], signal?: AbortSignal): Promise<ToolIndex> {
    const known = this.byArray.get(tools);
    if (known) return known;
    const hash = createHash("sha256");
    for (const tool of tools) hash.update(toolText(tool)).update("\u0000");
    const key = hash.digest("hex");
    let index = this.byKey.get(key);
    if (!index) {
      index = this.toolEmbeddings().then(async (embeddings) => new ToolIndex(tools, await embeddings.vectorsOf(tools, signal), tools.map(toolText)));
      index.catch(() => this.byKey.delete(key));
      this.byKey.set(key, index);
      // A handful of sets at a time (BFCL's held-out functions make a few per tool space); the oldest goes first.
      if (this.byKey.size > 16) this.byKey.delete(this.byKey.keys().next().value!);
    }
    this.byArray.set(tools, index);
    return index;
  }

  async embedQuery(text: string, signal?: AbortSignal): Promise<Float32Array> {
    let vector = this.queries.get(text);
    if (!vector) {
      vector = this.toolEmbeddings().then(async (embeddings) => (await embeddings.embedder.embed([text], { signal }))[0]);
      vector.catch(() => this.queries.delete(text));
      this.queries.set(text, vector);
      if (this.queries.size > 512) this.queries.delete(this.queries.keys().next().value!);
    }
    return vector;
  }
}

function sharedEmbedder({ spec, baseUrl }: { spec: string; baseUrl?: string }): Promise<Embedder> {
  const key = `${spec}\u0000${baseUrl ?? ""}`;
  let embedder = sharedEmbedders.get(key);
  if (!embedder) {
    embedder = createEmbedder(spec, { baseUrl });
    embedder.catch(() => sharedEmbedders.delete(key));
    sharedEmbedders.set(key, embedder);
  }
  return embedder;
}
