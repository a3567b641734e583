// HTML by tagged template: every interpolated value is escaped unless it is already Html (made by `html` itself or
// by `rawHtml`), so nothing read from the store (task text, model output, a judge's reason) can inject markup.
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  values.forEach((value, i) => (out += render(value) + strings[i + 1]));
  return new Html(out);
}

/** Markup we wrote ourselves (never text from the store). */
export function rawHtml(text: string): Html {
  return new Html(text);
}

/** A number for a table cell: integers as they are, others to 4 significant decimals. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "";
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

/** A query string from parameters, leaving out empty ones. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The page around a view: title, the run's view tabs, and the content. */
export function page(options: { title: string; nav?: Html; body: Html; scripts?: string[] }): string {
  return `<!doctype html>
${html`<html lang="en"><head><meta charset="utf-8"><title>${options.title} · Evolver</title>
<link rel="stylesheet" href="/assets/uPlot.min.css"><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><header><a class="home" href="/">Evolver</a>${options.nav}</header><main>${options.body}</main>
${(options.scripts ?? []).map((src) => html`<script src="${src}"></script>`)}</body></html>`}`;
}
