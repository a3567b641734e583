// A dashboard view: one file that says when it applies, how its query parameters are checked, what data it serves as
// JSON and how that data looks as HTML. Adding a view is writing such a file and listing it in views/index.ts.
import type { z } from "zod";
import type { RunStore } from "../../store/index.js";
import type { Html } from "../html.js";

export interface ViewContext {
  store: RunStore;
  runId: string;
  /** The store path as the user gave it (for commands shown on the page). */
  storePath: string;
}

export interface DashboardView<Query = unknown, Data = unknown> {
  /** The URL segment: /runs/RUN/<id>, /api/runs/RUN/<id>. */
  id: string;
  title: string;
  /** Shown as a tab of the run (false: reached by links only, as one trajectory is). */
  tab: boolean;
  /** Query parameters, checked before anything is read; a bad one is a 400 naming it. */
  query: z.ZodType<Query>;
  /** Whether this run has what the view shows (tables of features that land later, a feature the run had on). */
  available(store: RunStore, runId: string): boolean;
  data(context: ViewContext, query: Query): Data;
  html(context: ViewContext, data: Data, query: Query): Html;
  /** Scripts the page needs, from /assets. */
  scripts?: string[];
}

/** Erases a view's types for the table of views (each view checks its own query before using it). */
export function defineView<Query, Data>(view: DashboardView<Query, Data>): DashboardView {
  return view as unknown as DashboardView;
}
