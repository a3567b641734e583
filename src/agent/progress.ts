// Progress of a rollout batch. On a terminal: one line redrawn in place (`\r`), at most every `throttleMs`.
// Elsewhere (CI logs, files): a plain line at every tenth of the batch, so logs stay short.
import type { RolloutEvent, RolloutStats } from "./rollout-events.js";

export interface ProgressOptions {
  label?: string;
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Overrides the stream's own isTTY. */
  tty?: boolean;
  throttleMs?: number;
  now?: () => number;
}

export interface ProgressReporter {
  handle(event: RolloutEvent): void;
}

/** One progress line: done/total, success rate, errors, tokens per second, ETA. Pure, for tests and both modes. */
export function formatProgress(stats: RolloutStats, label = "rollouts", barWidth = 0): string {
  const fraction = stats.total === 0 ? 1 : stats.done / stats.total;
  const seconds = stats.elapsedMs / 1000;
  const rate = stats.done === 0 ? "-" : `${((100 * stats.successes) / stats.done).toFixed(1)}%`;
  const tokensPerSecond = seconds > 0 ? stats.completionTokens / seconds : 0;
  const eta = stats.done === 0 || stats.done >= stats.total ? "-" : formatDuration((seconds / stats.done) * (stats.total - stats.done));
  const filled = Math.round(fraction * barWidth);
  const bar = barWidth > 0 ? ` [${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]` : "";
  // Errors are not results: they are shown apart, so a batch of errors never reads as a policy scoring 0.
  const errored = stats.errored > 0 ? ` | errored ${stats.errored}` : "";
  return `${label}${bar} ${stats.done}/${stats.total} | success ${rate}${errored} | ${formatCount(tokensPerSecond)} tok/s | ETA ${eta}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function formatCount(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0);
}

export function createProgressReporter(options: ProgressOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const label = options.label ?? "rollouts";
  const throttleMs = options.throttleMs ?? 100;
  const now = options.now ?? Date.now;
  let lastDraw = -Infinity;
  let lastTenth = -1;
  return {
    handle(event) {
      const { stats } = event;
      if (tty) {
        const final = event.type === "batch-end";
        if (!final && now() - lastDraw < throttleMs) return;
        lastDraw = now();
        stream.write(`\r${formatProgress(stats, label, 20)}\x1b[K${final ? "\n" : ""}`);
        return;
      }
      if (event.type !== "rollout-end" && event.type !== "rollout-crashed" && event.type !== "batch-end") return;
      const tenth = stats.total === 0 ? 10 : Math.floor((10 * stats.done) / stats.total);
      if (tenth === lastTenth && event.type !== "batch-end") return;
      if (event.type === "batch-end" && tenth === lastTenth && stats.done > 0) return;
      lastTenth = tenth;
      stream.write(`${formatProgress(stats, label)}\n`);
    },
  };
}
