// The local trainer over a fresh tiny model, for test files that train for real: registered as the file's before and
// after hooks (write the model, start the trainer, connect; then close, stop and remove the folder).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { writeTinyModel } from "../../llm/index.js";
import { LocalTrainer } from "../local-trainer.js";
import type { TinkerClient } from "../tinker-client.js";

export interface LocalTrainerFixture {
  /** The tiny model's HF folder (the trainer's base model). */
  modelDir: string;
  trainer: LocalTrainer;
  client: TinkerClient;
}

/** Call at the top of a test file; the returned function gives the fixture inside tests (after `before` ran). */
export function useLocalTrainer(options: {
  seed: number;
  name: string;
  /** Further setup once the model is written and the trainer is up (root hooks of node:test do not wait on each other). */
  ready?: (fixture: LocalTrainerFixture) => void;
}): () => LocalTrainerFixture {
  const dir = mkdtempSync(join(tmpdir(), `evolver-${options.name}-`));
  const modelDir = join(dir, "tiny");
  let fixture: LocalTrainerFixture | undefined;
  let trainer: LocalTrainer | undefined;
  before(async () => {
    writeTinyModel(modelDir, { formats: ["hf"], seed: options.seed });
    trainer = await LocalTrainer.start({ baseModel: modelDir, checkpointDir: join(dir, "checkpoints"), threads: 1 });
    fixture = { modelDir, trainer, client: await trainer.connect({ heartbeatMs: 0 }) };
    options.ready?.(fixture);
  });
  after(async () => {
    fixture?.client.close();
    await trainer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!fixture) throw new Error("the local trainer fixture is used before its before() hook ran");
    return fixture;
  };
}
