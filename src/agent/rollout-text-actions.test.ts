// Rollouts on an environment that reads text actions (AgentEvolver's services, here the AgentEvolver-like test
// service through RemoteEnvironment): the action is the sampled text itself, and the one `user` observation per step
// is context like any observation, out of the loss.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyChainEnvironment, RemoteEnvironment } from "../env/index.js";
import { CounterEnvironment } from "../env/test-support/counter-environment.js";
import { startAgentEvolverLikeService, type AgentEvolverLikeService } from "../env/service/test-support/agentevolver-like-service.js";
import { writeTinyModel } from "../llm/index.js";
import { createContextStrategy } from "./context/index.js";
import { createPolicyModel } from "./model-spec.js";
import { runRollout } from "./rollout.js";
import { scriptedProvider } from "./test-support/scripted-provider.js";
import { sequenceTokens, trainingSequences } from "./trajectory.js";

describe("rollouts on a service that reads text actions", () => {
  let service: AgentEvolverLikeService;
  let env: RemoteEnvironment;
  // Key-chain asks a question every step whatever the answer, so a random model still gets several observations.
  let keyChainService: AgentEvolverLikeService;
  let keyChain: RemoteEnvironment;
  let dir: string;
  before(async () => {
    service = await startAgentEvolverLikeService(new CounterEnvironment(), "counter");
    env = new RemoteEnvironment({ url: service.url, envType: "counter", action_format: "text", splits: { test: "val" } });
    keyChainService = await startAgentEvolverLikeService(new KeyChainEnvironment({ length: 3, symbols: 4 }), "key-chain");
    keyChain = new RemoteEnvironment({ url: keyChainService.url, envType: "key-chain", action_format: "text" });
    dir = mkdtempSync(join(tmpdir(), "evolver-text-actions-"));
  });
  after(async () => {
    await env?.close();
    await service?.close();
    await keyChain?.close();
    await keyChainService?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a scripted model's text reaches the service as written; the tool prompt is the service's; success is scored", async () => {
    const call = 'I will add two.\n<tool_call>\n{"name": "increment", "arguments": {"by": 2}}\n</tool_call>';
    const model = scriptedProvider((_, i) => (i === 0 ? call : "The counter is at 2."));
    const trajectory = await runRollout({ env, taskId: "count-to-2", model: { kind: "chat", provider: model }, maxSteps: 4 });
    assert.equal(trajectory.termination, "done");
    assert.equal(trajectory.success, true);
    assert.deepEqual(service.actions.slice(-2), [
      { role: "assistant", content: call },
      { role: "assistant", content: "The counter is at 2." },
    ]);
    assert.equal(model.requests[0].tools, undefined, "a text-action environment is offered no native tools");
    assert.match(model.requests[0].messages[0].content, /# Tools/);
    assert.deepEqual(trajectory.steps[0].action, { role: "assistant", content: call });
    assert.deepEqual(trajectory.steps[0].observations.map((m) => m.role), ["user"]);
    assert.equal(service.live(), 0);
  });

  for (const contextName of ["linear", "sliding-window:2"]) {
    test(`tiny model, token mode, ${contextName}: the service reads exactly the sampled text; observations are out of the loss`, async () => {
      const ggufPath = writeTinyModel(join(dir, contextName.replace(":", "-")), { formats: ["gguf"], maxPositions: 4096, seed: 2 }).ggufPath!;
      const loaded = await createPolicyModel(ggufPath, { mode: "tokens", concurrency: 1, contextSize: 4096 });
      try {
        if (loaded.model.kind !== "tokens") throw new Error("expected a token model");
        const template = loaded.model.template;
        const before = keyChainService.actions.length;
        const [taskId] = await keyChain.listTasks("train");
        const trajectory = await runRollout({
          env: keyChain,
          taskId,
          model: loaded.model,
          context: createContextStrategy(contextName),
          maxSteps: 4,
          maxTokensPerCall: 24,
          contextLimitTokens: 4096,
          temperature: 1,
          seed: 11,
        });
        assert.ok(["done", "max_steps"].includes(trajectory.termination), `${trajectory.termination}: ${trajectory.error}`);
        const sent = keyChainService.actions.slice(before).map((a) => (a as { content: string }).content);
        assert.equal(sent.length, trajectory.steps.length);
        assert.equal(trajectory.steps.length, 3);
        const stop = new Set(template.stopTokens);
        for (const step of trajectory.steps) {
          const sampled = trajectory.segments.filter((s) => s.source === "policy" && s.step === step.index).flatMap((s) => s.tokens);
          const text = template.decode(stop.has(sampled.at(-1)!) ? sampled.slice(0, -1) : sampled);
          assert.equal(sent[step.index], text, `step ${step.index}: the service read other text than was sampled`);
          assert.equal(step.action.content, text);
        }
        for (const sequence of trainingSequences(trajectory)) {
          assert.equal(sequence.flatMap((s) => s.lossMask).length, sequenceTokens(sequence).length);
          for (const segment of sequence) assert.ok(segment.lossMask.every((m) => m === (segment.source === "policy" ? 1 : 0)));
        }
        // Each observation (one user message of text) is in the tokens the next call saw, as context.
        for (const step of trajectory.steps.slice(0, -1)) {
          const [observation] = step.observations;
          assert.equal(observation.role, "user");
          const context = trajectory.segments.filter((s) => s.source !== "policy").map((s) => template.decode(s.tokens)).join("");
          assert.ok(context.includes(`<|im_start|>user\n${observation.content}<|im_end|>`), `observation of step ${step.index} not in the context`);
        }
        assert.equal(keyChainService.live(), 0);
      } finally {
        await loaded.close();
      }
    });
  }
});
