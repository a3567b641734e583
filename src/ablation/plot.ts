// The ablation's plot as a small hand-written SVG (no plotting dependency): held-out success against iterations,
// one line per configuration (the mean of its seeds) over a band from the lowest to the highest seed.
import type { ConfigurationOutcome } from "./summary.js";

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { left: 64, right: 210, top: 36, bottom: 48 };
const COLORS = ["#555555", "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728"];

interface Band {
  iterations: number;
  mean: number;
  low: number;
  high: number;
}

/** Mean, lowest and highest success at every evaluation point that every seed of the configuration reached. */
export function bandOf(outcome: ConfigurationOutcome): Band[] {
  const runs = outcome.runs.filter((r) => r.points.length > 0);
  if (runs.length === 0) return [];
  const shared = runs[0].points.map((p) => p.iterations).filter((n) => runs.every((r) => r.points.some((p) => p.iterations === n)));
  return [...new Set(shared)]
    .sort((a, b) => a - b)
    .map((n) => {
      const values = runs.map((r) => r.points.find((p) => p.iterations === n)!.success);
      return { iterations: n, mean: values.reduce((a, b) => a + b, 0) / values.length, low: Math.min(...values), high: Math.max(...values) };
    });
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function ablationSvg(outcomes: ConfigurationOutcome[], options: { title: string; budget: number; threshold: number }): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const bands = outcomes.map(bandOf);
  // Low curves stay readable: the axis ends at the next quarter above the highest seed (the threshold line shows
  // only when it is within the axis).
  const highest = Math.max(0, ...bands.flat().map((b) => b.high));
  const top = Math.min(1, Math.max(0.25, Math.ceil(highest * 4) / 4));
  const x = (iterations: number) => MARGIN.left + (plotWidth * iterations) / Math.max(1, options.budget);
  const y = (success: number) => MARGIN.top + plotHeight * (1 - success / top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="14">${escapeXml(options.title)}</text>`,
  ];
  const tickStep = top <= 0.25 ? 0.05 : top <= 0.5 ? 0.1 : 0.25;
  for (let index = 0; index * tickStep <= top + 1e-9; index++) {
    const tick = Number((index * tickStep).toFixed(2));
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`);
  }
  const step = Math.max(1, Math.ceil(options.budget / 8 / 5) * 5);
  for (let tick = 0; tick <= options.budget; tick += step) {
    out.push(`<text x="${x(tick)}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${tick}</text>`);
  }
  if (options.threshold <= top) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(options.threshold)}" y2="${y(options.threshold)}" stroke="#999" stroke-dasharray="4 4"/>`);
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 10}" text-anchor="middle">iterations (policy updates)</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">held-out success</text>`,
  );
  outcomes.forEach((outcome, index) => {
    const color = COLORS[index % COLORS.length];
    const legendY = MARGIN.top + 12 + index * 20;
    const band = bands[index];
    const label = outcome.status === "unavailable" ? `${outcome.configuration.label} (not available)` : outcome.configuration.label;
    out.push(
      `<line x1="${WIDTH - MARGIN.right + 14}" x2="${WIDTH - MARGIN.right + 38}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${band.length === 0 ? ' stroke-dasharray="2 3"' : ""}/>`,
      `<text x="${WIDTH - MARGIN.right + 44}" y="${legendY + 4}">${escapeXml(label)}</text>`,
    );
    if (band.length === 0) return;
    const upper = band.map((b) => `${x(b.iterations).toFixed(1)},${y(b.high).toFixed(1)}`);
    const lower = band.map((b) => `${x(b.iterations).toFixed(1)},${y(b.low).toFixed(1)}`).reverse();
    out.push(`<polygon points="${[...upper, ...lower].join(" ")}" fill="${color}" fill-opacity="0.12" stroke="none"/>`);
    out.push(`<polyline points="${band.map((b) => `${x(b.iterations).toFixed(1)},${y(b.mean).toFixed(1)}`).join(" ")}" fill="none" stroke="${color}" stroke-width="2"/>`);
  });
  out.push("</svg>", "");
  return out.join("\n");
}
