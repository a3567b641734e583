// One tiny random Qwen2 model per test process, written to a temp folder on first use and removed at exit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeTinyModel, type TinyModelFiles } from "../tiny-model.js";

let files: TinyModelFiles | undefined;

export function tinyModel(): TinyModelFiles {
  if (!files) {
    const dir = mkdtempSync(join(tmpdir(), "evolver-tiny-fixture-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    files = writeTinyModel(dir, { seed: 0 });
  }
  return files;
}
