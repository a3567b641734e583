// An RL update's forward-backward with each shared prompt run once (trainer/shared_prefix.py) against every datum run
// whole, on datums of the quick start's shape (16 prompts of 64 tokens, 8 completions each of 3 sampled tokens between
// 30-token observations, in 2 mini-batches): CPU time per update, the two ways alternating in one Python process
// (trainer/bench_update.py), so that both meet the same machine load.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeTinyModel } from "../src/llm/index.js";
import { resolvePython } from "../src/train/index.js";
import type { BenchResult } from "./result.js";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));

export function updateSharing({ quick }: { quick: boolean }): BenchResult[] {
  const dir = mkdtempSync(join(tmpdir(), "evolver-bench-update-"));
  try {
    const modelDir = join(dir, "tiny");
    writeTinyModel(modelDir, { formats: ["hf"], seed: 0 });
    const output = execFileSync(resolvePython(), ["-m", "trainer.bench_update", "--base-model", modelDir, "--rounds", quick ? "3" : "7"], { cwd: repoRoot, encoding: "utf8" });
    const measured = JSON.parse(output.trim().split("\n").at(-1)!) as { shared_cpu_seconds: number; whole_cpu_seconds: number; datums: number };
    return [{
      name: `quick start's update (${measured.datums} datums, tiny model): forward-backward CPU seconds, shared prompts`,
      value: measured.shared_cpu_seconds,
      unit: "s",
      baseline: { name: "every datum run whole", value: measured.whole_cpu_seconds },
      ratio: measured.whole_cpu_seconds / measured.shared_cpu_seconds,
    }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
