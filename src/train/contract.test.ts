// The loss and optimizer contract between the two languages: PolicyLossConfig and AdamParams are declared once in
// TypeScript (zod) and once in Python (dataclasses). Their JSON Schema must name the same fields with the same
// defaults as the dataclasses, so a setting added, renamed or re-defaulted on one side fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PolicyLossConfig } from "../evolve/attributing/index.js";
import { EvolveConfig } from "../recipe/config.js";
import { AdamParams, adamParamsOf, evolverPpoLossFnConfig, resolvePython } from "./index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function pythonDataclasses(): Record<string, Record<string, unknown>> {
  const script = [
    "import dataclasses, json",
    "from trainer.loss import EvolverPpoConfig",
    "from trainer.train_step import AdamParams, LOSS_SPECS",
    "fields = lambda c: {f.name: f.default for f in dataclasses.fields(c)}",
    "print(json.dumps({'evolver_ppo': fields(EvolverPpoConfig), 'adam': fields(AdamParams),",
    "                  'evolver_ppo_keys': {k: None for k in LOSS_SPECS['evolver_ppo'].config_keys}}))",
  ].join("\n");
  const result = spawnSync(resolvePython(), ["-c", script], { cwd: root, encoding: "utf8", timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

function schemaDefaults(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: "input" }) as { properties: Record<string, { default?: unknown }> };
  return Object.fromEntries(Object.entries(json.properties).map(([name, property]) => [name, property.default]));
}

test("PolicyLossConfig and AdamParams have the Python dataclasses' fields and defaults", { timeout: 180_000 }, () => {
  const python = pythonDataclasses();
  assert.deepEqual(schemaDefaults(PolicyLossConfig), python.evolver_ppo);
  assert.deepEqual(schemaDefaults(AdamParams), python.adam);
  // the trainer's list of evolver_ppo config keys is the dataclass's, not a hand-kept copy
  assert.deepEqual(Object.keys(python.evolver_ppo_keys), Object.keys(python.evolver_ppo));
});

test("the run config's loss and optimizer sections are the protocol's schemas, mapped to a request in one place", () => {
  const config = EvolveConfig.parse({ env: { type: "key-chain" }, policy: { base_model: "m" } });
  assert.deepEqual(config.loss, PolicyLossConfig.parse({}));
  assert.deepEqual(adamParamsOf(config.optimizer), AdamParams.parse({}));
  assert.equal(config.optimizer.mini_batches, 1);
  // entropy_coeff travels only when it is on, so a trainer without the bonus accepts the default
  assert.equal("entropy_coeff" in evolverPpoLossFnConfig(config.loss), false);
  assert.deepEqual(evolverPpoLossFnConfig({ ...config.loss, entropy_coeff: 0.1 }), { ...config.loss, entropy_coeff: 0.1 });
  assert.throws(() => EvolveConfig.parse({ env: { type: "key-chain" }, policy: { base_model: "m" }, loss: { clip_lo: 0.1 } }));
});
