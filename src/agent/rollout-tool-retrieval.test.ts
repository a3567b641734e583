// Rollouts with tool-retrieval: BFCL's tasks in a space of 300 and 1,000 tools (its 129 plus generated distractors),
// a scripted policy that follows the ground truth seeing only the tools it is offered (token exactness:
// src/train/tool-retrieval-datums.test.ts). Embeds with the offline default embedder; tool vectors are cached on disk
// between runs in .evolver/cache, the default (a cache miss costs minutes on a loaded machine).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BfclEnvironment } from "../env/index.js";
import { createContextStrategy, namesSeen, SEARCH_TOOLS_NAME } from "./context/index.js";
import { runRollout } from "./rollout.js";
import { groundTruthPolicy } from "./test-support/ground-truth-policy.js";

const SLOW = { timeout: 900_000 };

test("BFCL with 300 tools, 2 retrieved per call: searches are answered by the rollout, found tools are offered next, the task succeeds", SLOW, async () => {
  const env = new BfclEnvironment({ categories: ["base"], toolCount: 300 });
  const context = createContextStrategy("tool-retrieval:2");
  const { provider, needed } = groundTruthPolicy("multi_turn_base_0");
  const trajectory = await runRollout({ env, taskId: "multi_turn_base_0", model: { kind: "chat", provider }, context, maxSteps: 40 });
  assert.equal(trajectory.termination, "done", trajectory.error);
  assert.deepEqual(needed.filter((n) => n.how === "missed"), []);
  assert.equal(trajectory.success, true, JSON.stringify(trajectory.evaluation).slice(0, 400));

  // Each call: at most 2 retrieved + the tools called or found so far + search_tools, from the 300.
  for (const request of provider.requests) {
    const names = request.tools!.map((t) => t.function.name);
    assert.equal(names.at(-1), SEARCH_TOOLS_NAME);
    const seen = new Set(namesSeen(request.messages));
    assert.ok(names.slice(0, -1).filter((name) => !seen.has(name)).length <= 2, names.join(","));
  }
  assert.ok(provider.requests[0].tools!.length <= 3);
  // Steps record what they were offered; a search-only step never reached BFCL (which would have ended the turn).
  const searchSteps = trajectory.steps.filter((s) => s.action.tool_calls?.every((c) => c.function.name === SEARCH_TOOLS_NAME));
  assert.ok(searchSteps.length > 0, "the policy had to search");
  for (const step of searchSteps) {
    assert.deepEqual(step.offeredTools, provider.requests[step.index].tools!.map((t) => t.function.name));
    assert.ok(step.observations.every((o) => o.role === "tool" && o.name === SEARCH_TOOLS_NAME));
    const found = JSON.parse(step.observations[0].content) as { name: string; description: string }[];
    assert.ok(found.length > 0 && found.every((f) => typeof f.description === "string"));
    // The next call is offered what the search found.
    const next = provider.requests[step.index + 1].tools!.map((t) => t.function.name);
    for (const f of found) assert.ok(next.includes(f.name), `${f.name} found but not offered next`);
  }
  assert.equal(trajectory.metrics.toolSearches, searchSteps.flatMap((s) => s.action.tool_calls!).length);
  assert.equal(trajectory.evaluation.completedTurns, 4);
  assert.equal(trajectory.contextStrategy, "tool-retrieval:2");
});

test("ground truth at 1,000 tools (k = 8): episodes succeed wherever every needed tool was retrieved or found; the rest are counted and listed", SLOW, async () => {
  const env = new BfclEnvironment({ categories: ["base", "miss_func"], toolCount: 1000 });
  const context = createContextStrategy("tool-retrieval:8");
  const tasks = [...(await env.listTasks("test")).filter((id) => id.includes("base")).slice(0, 16), ...(await env.listTasks("test")).filter((id) => id.includes("miss_func")).slice(0, 8)];
  const counts = { retrieved: 0, found: 0, missed: 0 };
  const incomplete: string[] = [];
  const failedDespiteTools: string[] = [];
  for (const taskId of tasks) {
    const { provider, needed } = groundTruthPolicy(taskId);
    const trajectory = await runRollout({ env, taskId, model: { kind: "chat", provider }, context, maxSteps: 60 });
    assert.equal(trajectory.termination, "done", `${taskId}: ${trajectory.error}`);
    for (const n of needed) counts[n.how] += 1;
    const missed = needed.filter((n) => n.how === "missed");
    if (missed.length > 0) incomplete.push(`${taskId} (${missed.map((n) => `turn ${n.turn}: ${n.name}`).join(", ")})`);
    else if (!trajectory.success) failedDespiteTools.push(`${taskId}: ${JSON.stringify(trajectory.evaluation).slice(0, 300)}`);
  }
  console.log(`tool-retrieval at 1,000 tools, ${tasks.length} BFCL tasks: needed tools ${JSON.stringify(counts)}; episodes missing a tool: ${incomplete.length}${incomplete.length ? `\n  ${incomplete.join("\n  ")}` : ""}`);
  assert.deepEqual(failedDespiteTools, []);
  // Retrieval and search together find nearly every needed tool (2 of 127 missed when this was written).
  assert.ok(counts.missed <= 0.1 * (counts.retrieved + counts.found + counts.missed), JSON.stringify(counts));
  assert.ok(counts.retrieved > 0 && counts.found > 0);
});

