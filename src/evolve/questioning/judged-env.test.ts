// Synthetic tasks on a remote env service (a small AppWorld-like notes app behind our env-service HTTP server, reached
// through the remote client): the request goes through create's params, a scripted LLM judge grades each episode
// from the request, the reference solution and what was done. Accepted with the judge's reason; the undecided band
// refused and counted apart; a low score fails; a rollout in the band is errored (left out of training), not graded.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { runRollouts } from "../../agent/index.js";
import type { ChatMessage } from "../../core/messages.js";
import { RemoteEnvironment, startEnvService, type EnvService } from "../../env/service/index.js";
import { ScriptedProvider, type ChatRequest } from "../../llm/index.js";
import { judgedEnvironment, llmSynthesizer, synthesizeTasks } from "./index.js";
import { NotesEnvironment } from "./test-support/notes-environment.js";

const call = (name: string, args: Record<string, unknown>): ChatMessage => ({
  role: "assistant", content: "", tool_calls: [{ id: `c-${name}`, type: "function", function: { name, arguments: JSON.stringify(args) } }],
});

/** Grades by what the agent did: 'call mom' added is done (90); 'water the plants' it cannot tell (50); else 10. */
function scriptedJudge(): ScriptedProvider {
  return new ScriptedProvider([(request: ChatRequest) => {
    const did = request.messages[1].content.split("WHAT THE AGENT DID:")[1];
    if (did.includes('add_note({"text":"call mom"})')) return JSON.stringify({ reason: "The note 'call mom' was added.", score: 90 });
    if (did.includes("water the plants")) return JSON.stringify({ reason: "A note was added but the list was never checked.", score: 50 });
    return JSON.stringify({ reason: "No note was added.", score: 10 });
  }], { loop: true, id: "judge" });
}

let service: EnvService;
let notes: NotesEnvironment;
before(async () => {
  notes = new NotesEnvironment();
  service = await startEnvService({ port: 0, environments: async () => notes });
});
after(async () => service?.close());

test("remote synthetic tasks: the request through create's params, graded by the judge; undecided refused and counted apart", { timeout: 120_000 }, async () => {
  const remote = new RemoteEnvironment({ url: service.url, envType: "notes" });
  const judge = scriptedJudge();
  const env = judgedEnvironment(remote, judge);
  const explorer = new ScriptedProvider([(request) => {
    const step = request.messages.filter((m) => m.role === "assistant").length;
    return [call("add_note", { text: "call mom" }), call("list_notes", {}), { role: "assistant", content: "Seen it." } as ChatMessage][Math.min(step, 2)];
  }], { loop: true });
  const proposals = {
    tasks: [
      { query: "Add a note saying 'call mom'.", solution: [{ name: "add_note", arguments: { text: "call mom" } }], check: "the note exists" },
      { query: "Add a note saying 'water the plants'.", solution: [{ name: "add_note", arguments: { text: "water the plants" } }], check: "the note exists" },
      { query: "Show me my notes.", solution: [{ name: "list_notes", arguments: {} }], check: "the notes are listed" },
    ],
  };
  const report = await synthesizeTasks({
    env, profile: await env.profile(), explorer: { kind: "chat", provider: explorer },
    synthesizer: llmSynthesizer({ provider: new ScriptedProvider([JSON.stringify(proposals)], { loop: true }) }),
    perEntity: 1, maxSteps: 4, temperature: 1, seed: 5, round: "r0", heldOut: [],
  });
  assert.equal(report.counts.explored, 1);
  assert.equal(report.counts.exploreErrors, 0);
  assert.equal(report.counts.proposed, 3);
  assert.deepEqual(report.counts.rejected, { undecided: 1, checks_failed: 1 });
  const [accepted] = report.candidates.filter((c) => c.status === "accepted");
  assert.equal(report.counts.accepted, 1);
  assert.deepEqual(accepted.spec.turns, ["Add a note saying 'call mom'."]);
  assert.equal(accepted.detail, "judge 90: The note 'call mom' was added.");
  assert.match(report.candidates.find((c) => c.reason === "undecided")!.detail!, /JUDGE_UNDECIDED: .*score 50, undecided band 41-59\): A note was added but the list was never checked/);
  assert.equal(report.candidates.find((c) => c.reason === "checks_failed")!.detail, "judge 10: No note was added.");
  // The exploration ran in a training task's environment, and each replay went to the service as that task with the
  // request in create's params; the judge saw the reference solution.
  const base = accepted.spec.setup.task_id as string;
  assert.ok(["note-a", "note-b"].includes(base));
  assert.ok(notes.created.some((c) => c.taskId === base && c.params.query === "Add a note saying 'call mom'."));
  assert.equal(judge.requests.length, 3, "one grade per replay; the exploration (no reference solution) is not judged");
  const judged = judge.requests.find((r) => r.messages[1].content.includes("call mom"))!;
  assert.match(judged.messages[1].content, /REFERENCE SOLUTION:\n1\. add_note\(\{"text":"call mom"\}\)/);

  // Rollouts of synthetic tasks: the policy sees the request; a judged failure is a result, an undecided one is an
  // errored rollout, counted apart and left out of training.
  const undecided = report.candidates.find((c) => c.reason === "undecided")!;
  const policy = new ScriptedProvider([(request) => {
    const text = request.messages.at(-1)!.role === "user" ? request.messages.at(-1)!.content : "";
    if (text.includes("water the plants")) return call("add_note", { text: "water the plants" });
    if (text.includes("call mom")) return call("list_notes", {});
    return { role: "assistant", content: "Done." };
  }], { loop: true });
  const batch = await runRollouts({
    env, model: { kind: "chat", provider: policy }, batchId: "train/0", samplesPerTask: 1, maxSteps: 3,
    tasks: [{ taskId: accepted.id, params: { task: accepted.spec } }, { taskId: undecided.id, params: { task: undecided.spec } }],
  });
  assert.deepEqual([batch.stats.successes, batch.stats.failed, batch.stats.errored], [0, 1, 1]);
  const [failed, errored] = batch.trajectories;
  assert.equal(failed.messages.find((m) => m.role === "user")!.content, "Add a note saying 'call mom'.");
  assert.deepEqual(failed.evaluation, { judge: { model: "judge", score: 10, reason: "No note was added." } });
  assert.equal(errored.termination, "error");
  assert.match(errored.error ?? "", /JUDGE_UNDECIDED/);
  await env.close?.();
});

test("judged environment: a spec without a base task, or with several turns, is ENV_BAD_PARAMS; listed tasks keep their own grading", async () => {
  const env = judgedEnvironment(new RemoteEnvironment({ url: service.url, envType: "notes" }), scriptedJudge());
  await assert.rejects(env.create("syn-x", { task: { turns: ["Hi."], setup: {}, solution: [] } }), /setup\.task_id must name the notes task/);
  await assert.rejects(env.create("syn-y", { task: { turns: ["a", "b"], setup: { task_id: "note-a" }, solution: [] } }), /one request per synthetic task, got 2 turns/);
  const listed = await env.create("note-a");
  await listed.step(call("add_note", { text: "buy milk" }));
  assert.deepEqual(await listed.evaluate(), { score: 1, success: true, details: {} });
  await listed.release();
  assert.deepEqual(await env.explorationSetup!("notes", 3), { task_id: "note-b" });
  await env.close?.();
});
