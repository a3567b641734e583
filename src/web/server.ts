// The dashboard server: read-only pages and a small JSON API over one run store, on node:http. It opens the store
// read-only (nothing is created or written; a file that is not a run store is refused), reopens it after a failure,
// and serves only the store's data and its own fixed assets. Every failure reaches the wire through `sendError`: a
// page (or JSON under /api) naming the problem, never a stack trace, and the server goes on.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { EvolverError, describeError } from "../core/errors.js";
import { RunStore } from "../store/index.js";
import { html, page, type Html } from "./html.js";
import { runCurves } from "./curves.js";
import { listRuns, runsPage, views, type DashboardView, type ViewContext } from "./views/index.js";

const DashboardOptions = z.strictObject({
  storePath: z.string().min(1),
  /** Loopback by default: the store holds prompts, model outputs and paths. */
  host: z.string().default("127.0.0.1"),
  /** 0 picks a free port; `Dashboard.url` tells which. */
  port: z.number().int().min(0).max(65535).default(3000),
});
export type DashboardOptions = z.input<typeof DashboardOptions>;

export interface Dashboard {
  /** e.g. http://127.0.0.1:3000 */
  readonly url: string;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
/** The only files the server reads besides the store: uPlot from node_modules and our own script and styles. */
const ASSETS: Record<string, { path: () => string; type: string }> = {
  "uPlot.iife.min.js": { path: () => require.resolve("uplot/dist/uPlot.iife.min.js"), type: "text/javascript" },
  "uPlot.min.css": { path: () => require.resolve("uplot/dist/uPlot.min.css"), type: "text/css" },
  "curves.js": { path: () => fileURLToPath(new URL("./assets/curves.js", import.meta.url)), type: "text/javascript" },
  "dashboard.css": { path: () => fileURLToPath(new URL("./assets/dashboard.css", import.meta.url)), type: "text/css" },
};

const STATUS_BY_CODE: Record<string, number> = {
  WEB_NOT_FOUND: 404,
  RUN_UNKNOWN: 404,
  TRAJECTORY_UNKNOWN: 404,
  WEB_BAD_QUERY: 400,
  WEB_METHOD: 405,
  STORE_NOT_FOUND: 503,
  STORE_OPEN: 503,
  STORE_FOREIGN: 503,
  STORE_SCHEMA: 503,
  STORE_BROKEN: 503,
};

export async function startDashboard(input: DashboardOptions): Promise<Dashboard> {
  const options = DashboardOptions.parse(input);
  let store: RunStore | undefined;
  const openStore = (): RunStore => (store ??= new RunStore(options.storePath, { readonly: true }));
  const forgetStore = () => {
    store?.close();
    store = undefined;
  };

  const server = createServer((request, response) => {
    try {
      handle(request, response, openStore, options.storePath);
    } catch (raw) {
      const error = asEvolverError(raw);
      // The store may have been replaced or damaged under us: open it afresh on the next request.
      if (error.code.startsWith("STORE_")) forgetStore();
      sendError(request, response, error);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(new EvolverError("WEB_LISTEN", `cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`, { cause: error })),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        forgetStore();
      }),
  };
}

function handle(request: IncomingMessage, response: ServerResponse, openStore: () => RunStore, storePath: string): void {
  if (request.method !== "GET" && request.method !== "HEAD") throw new EvolverError("WEB_METHOD", `${request.method} is not served: the dashboard only reads`);
  const url = new URL(request.url ?? "/", "http://dashboard");
  const parts = url.pathname.split("/").filter(Boolean).map(decodeSegment);
  const search = url.searchParams;

  if (parts[0] === "assets" && parts.length === 2) return sendAsset(response, parts[1]);
  if (parts.length === 0) {
    const store = openStore();
    return sendPage(response, "Runs", runsPage(listRuns(store, storePath), storePath));
  }
  if (parts[0] === "compare" && parts.length === 1) {
    const runs = runIdsOf(search);
    const store = openStore();
    for (const id of runs) store.getRun(id);
    return sendPage(
      response,
      "Compare runs",
      html`<h1>Compare ${runs.length} runs</h1><p>${runs.map((id) => html`<a href="/runs/${encodeURIComponent(id)}">${id}</a> `)}</p>
        <div class="charts" data-url="/api/curves?${runs.map((id) => `runs=${encodeURIComponent(id)}`).join("&")}"></div>`,
      ["/assets/uPlot.iife.min.js", "/assets/curves.js"],
    );
  }
  if (parts[0] === "runs" && (parts.length === 2 || parts.length === 3)) {
    const { view, context, query } = resolveView(openStore(), parts[1], parts[2] ?? "overview", search, storePath);
    const data = view.data(context, query);
    return sendPage(response, `${view.title} · ${parts[1]}`, view.html(context, data, query), view.scripts, tabs(context, view));
  }
  if (parts[0] === "api") {
    const store = openStore();
    if (parts[1] === "runs" && parts.length === 2) return sendJson(response, { runs: listRuns(store, storePath) });
    if (parts[1] === "curves" && parts.length === 2) {
      const { metrics } = parseQuery(z.strictObject({ runs: z.unknown(), metrics: z.string().max(2000).optional() }), search);
      const runs = runIdsOf(search);
      for (const id of runs) store.getRun(id);
      return sendJson(response, { charts: runCurves(store, runs, metrics?.split(",") ?? []) });
    }
    if (parts[1] === "runs" && (parts.length === 3 || parts.length === 4)) {
      const { view, context, query } = resolveView(store, parts[2], parts[3] ?? "overview", search, storePath);
      return sendJson(response, view.data(context, query));
    }
  }
  throw new EvolverError("WEB_NOT_FOUND", `nothing at ${url.pathname}`);
}

function resolveView(store: RunStore, runId: string, viewId: string, search: URLSearchParams, storePath: string) {
  store.getRun(runId);
  const view = views.find((v) => v.id === viewId);
  if (!view) throw new EvolverError("WEB_NOT_FOUND", `no view '${viewId}'; the views are ${views.map((v) => v.id).join(", ")}`);
  if (!view.available(store, runId)) throw new EvolverError("WEB_NOT_FOUND", `run ${runId} has no ${view.title.toLowerCase()} (the feature that writes them was not on)`);
  const context: ViewContext = { store, runId, storePath };
  return { view, context, query: parseQuery(view.query, search) };
}

/** Query parameters through the view's schema; every problem named at once. */
function parseQuery<T>(schema: z.ZodType<T>, search: URLSearchParams): T {
  const raw: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const all = search.getAll(key);
    raw[key] = all.length === 1 ? all[0] : all;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "query"}: ${issue.message}`);
    throw new EvolverError("WEB_BAD_QUERY", `bad query parameters: ${problems.join("; ")}`, { details: { issues: parsed.error.issues } });
  }
  return parsed.data;
}

const RunIds = z.array(z.string().min(1).max(200)).min(1).max(20);

function runIdsOf(search: URLSearchParams): string[] {
  const ids = search.getAll("runs").flatMap((value) => value.split(",")).filter(Boolean);
  const parsed = RunIds.safeParse(ids);
  if (!parsed.success) throw new EvolverError("WEB_BAD_QUERY", "name 1 to 20 runs: ?runs=RUN&runs=RUN");
  return parsed.data;
}

function tabs(context: ViewContext, current: DashboardView): Html {
  const run = encodeURIComponent(context.runId);
  return html`<nav class="tabs"><span class="run">${context.runId}</span>${views
    .filter((v) => v.tab && v.available(context.store, context.runId))
    .map((v) => html`<a class="${v === current ? "current" : ""}" href="/runs/${run}${v.id === "overview" ? "" : `/${v.id}`}">${v.title}</a>`)}</nav>`;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new EvolverError("WEB_BAD_QUERY", `a malformed path segment: ${segment}`);
  }
}

function sendAsset(response: ServerResponse, name: string): void {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) throw new EvolverError("WEB_NOT_FOUND", `no asset '${name}'`);
  response.writeHead(200, { "content-type": `${asset.type}; charset=utf-8`, "cache-control": "max-age=3600" });
  response.end(readFileSync(asset.path()));
}

function sendPage(response: ServerResponse, title: string, body: Html, scripts?: string[], nav?: Html): void {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(page({ title, body, scripts, nav }));
}

function sendJson(response: ServerResponse, value: unknown): void {
  response.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  response.end(JSON.stringify(value));
}

function asEvolverError(error: unknown): EvolverError {
  if (EvolverError.isInstance(error)) return error;
  const code = (error as { code?: unknown }).code;
  // better-sqlite3's errors while reading: the file was damaged or replaced after it was opened.
  if (typeof code === "string" && code.startsWith("SQLITE_")) return new EvolverError("STORE_BROKEN", `the run store cannot be read: ${describeError(error)} (${code})`, { cause: error });
  return new EvolverError("WEB_INTERNAL", describeError(error), { cause: error });
}

function sendError(request: IncomingMessage, response: ServerResponse, error: EvolverError): void {
  const status = STATUS_BY_CODE[error.code] ?? 500;
  if (response.headersSent) return void response.destroy();
  if ((request.url ?? "").startsWith("/api/")) {
    response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
    return;
  }
  response.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  response.end(page({ title: "Error", body: html`<h1>${status === 503 ? "The run store cannot be read" : "Error"}</h1><p class="error"><code>${error.code}</code>: ${error.message}</p><p><a href="/">all runs</a></p>` }));
}
