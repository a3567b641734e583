// Does the SFT warm start teach the tiny policy to do what an experience in its prompt says (sft.experience_drills)?
// Runs the warm start of examples/ablation.yaml (with the given overrides) on the local trainer, then answers greedily
// the first turn of 150 drills built on the held-out chains (each with a random answer: chance is 1/3) and, without
// any experience, the first lock of every held-out chain. The figures in docs/ablation.md ("Does the warm start teach
// the tiny model to read an experience?") came from this. Run (after `npx evolver model tiny --out .evolver/models/tiny`):
//   node --import tsx scripts/ablation-reading-probe.ts sft.experience_drills=600 navigating.k=1
// Add navigating.retrieval=turn for drills (and probes) with an experience before every turn, counted per turn.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyChainEnvironment } from "../src/env/index.js";
import { loadConfig, sftStage } from "../src/recipe/index.js";
import { experienceDrills, readReferences } from "../src/recipe/sft-stage.js";
import { openPolicy } from "../src/recipe/policy.js";

const config = loadConfig("examples/ablation.yaml", process.argv.slice(2));
const env = new KeyChainEnvironment(config.env.options as Record<string, unknown>);
const unseen = (digit: number) => digit >= (env.options.train_digits ?? env.options.symbols);
const dir = mkdtempSync(join(tmpdir(), "reading-probe-"));
const policy = await openPolicy(config, dir, () => undefined);
try {
  const metrics = await sftStage({ config, env, training: policy.training, template: policy.template, tasks: await env.listTasks("train"), log: console.log });
  const sampler = await policy.training.saveWeightsForSampler("probe");
  const tally: Record<string, { right: number; of: number }> = {};
  const count = (key: string, right: boolean) => {
    tally[key] ??= { right: 0, of: 0 };
    tally[key].of += 1;
    if (right) tally[key].right += 1;
  };
  // Drills on held-out chains with another seed than the warm start's: prompts and answers it has not seen.
  const probe = { ...config, run: { ...config.run, seed: 12345 }, sft: { ...config.sft, experience_drills: 150 } };
  // With navigating.retrieval=turn a drill is the whole chain, an experience before every turn: each turn's answer
  // is asked with the drill's earlier turns as its prefix (their answers the drill's, not the policy's).
  for (const drill of await experienceDrills({ config: probe, env, template: policy.template, references: await readReferences(env, await env.listTasks("test")) })) {
    const answers = drill.lossMask.flatMap((m, i) => (m === 1 && drill.lossMask[i - 1] !== 1 ? [i] : []));
    for (const [turn, at] of answers.entries()) {
      const prompt = drill.tokens.slice(0, at);
      const digit = Number(/<\|im_start\|>user\n(\d)[ \d]*<\|im_end\|>\n<\|im_start\|>assistant\n$/.exec(policy.template.decode(prompt))![1]);
      const answer = await sampler.sample({ promptTokens: prompt, maxTokens: 1, temperature: 0 });
      const where = answers.length > 1 ? `, turn ${turn + 1}` : "";
      count(`follows the experience${where}, digits ${unseen(digit) ? "unseen" : "seed"}`, answer.tokens[0] === drill.tokens[at]);
    }
  }
  for (const taskId of await env.listTasks("test")) {
    const instance = await env.create(taskId);
    const prompt = policy.template.render(instance.initial.messages, { addGenerationPrompt: true });
    const answer = await sampler.sample({ promptTokens: prompt, maxTokens: 1, temperature: 0 });
    const digit = Number(taskId.charAt(3));
    count(`first lock right without experience, digits ${unseen(digit) ? "unseen" : "seed"}`, policy.template.decode(answer.tokens) === env.secret[digit]);
  }
  console.log(`sft loss ${metrics["sft/loss"].toFixed(4)} per token, ${metrics["sft/seconds"].toFixed(0)} s`);
  for (const [key, { right, of }] of Object.entries(tally)) console.log(`${key}: ${right}/${of}`);
} finally {
  await policy.close();
  rmSync(dir, { recursive: true, force: true });
}
