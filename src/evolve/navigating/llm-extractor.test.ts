// The LLM extractor and the semantic advantage with a scripted model: what they are asked (the group's attempts,
// never the injected experience), what they keep (schema-valid items), what they drop and count.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runRollout, type Trajectory } from "../../agent/index.js";
import { KeyChainEnvironment } from "../../env/index.js";
import { ScriptedProvider } from "../../llm/index.js";
import { createLlmExtractor } from "./llm-extractor.js";
import { semanticAdvantage } from "./semantic-advantage.js";
import { EXPERIENCE_HEADER } from "./template.js";
import type { Experience } from "./schema.js";

const env = new KeyChainEnvironment({ length: 2, symbols: 4 });
const [a, b] = [env.secret[0], env.secret[1]];
const other = (letter: string) => env.secret.find((l) => l !== letter)!;

async function group(): Promise<Trajectory[]> {
  const play = (answers: string[], i: number, guided: boolean) =>
    runRollout({
      env, taskId: "kc-01", model: { kind: "chat", provider: new ScriptedProvider(answers) }, maxSteps: 2, id: `t${i}`, sampleIndex: i,
      experience: guided ? () => `${EXPERIENCE_HEADER}\n1. When told 0: answer secret-tip.` : undefined,
    });
  return Promise.all([play([a, b], 0, true), play([other(a), other(b)], 1, false), play([a, other(b)], 2, false)]);
}

test("llm extractor: valid experiences kept with provenance, invalid items dropped and counted, the prompt holds both sides", async () => {
  const provider = new ScriptedProvider([
    "```json\n" +
      JSON.stringify({
        experiences: [
          { when_to_use: "a lock is named by a digit", content: `answer ${a} for 0 and ${b} for 1`, origin: "success" },
          { when_to_use: "a lock is named by a digit", content: "", origin: "success" }, // empty content
          { when_to_use: "anything", content: "guess", origin: "luck" }, // unknown origin
          { content: "no situation" },
          { when_to_use: "the second lock", content: `${other(b)} is wrong for 1`, origin: "failure" },
        ],
      }) +
      "\n```",
  ]);
  const extractor = createLlmExtractor({ provider });
  const trajectories = await group();
  const result = await extractor.extract(trajectories);
  assert.equal(result.invalid, 3);
  assert.deepEqual(result.experiences.map((e) => [e.whenToUse, e.origin]), [["a lock is named by a digit", "success"], ["the second lock", "failure"]]);
  assert.deepEqual(result.experiences[0].sourceTrajectories, ["t0", "t1", "t2"]);
  assert.deepEqual(result.experiences[0].sourceTasks, ["kc-01"]);
  assert.equal(result.experiences[0].extractor, "llm:scripted");
  const prompt = provider.requests[0].messages.map((m) => m.content).join("\n");
  assert.match(prompt, /SUCCESSFUL ATTEMPTS:\n--- attempt 1\nstep 0 ACTION: /);
  assert.match(prompt, /FAILED ATTEMPTS:\n--- attempt 1/);
  assert.doesNotMatch(prompt, /secret-tip/, "the injected experience is not shown as the task");
  assert.equal(provider.requests[0].jsonSchema?.name, "experiences");
});

test("llm extractor: an answer that is not JSON, or a failed call, adds nothing and is counted", async () => {
  const trajectories = await group();
  assert.deepEqual(await createLlmExtractor({ provider: new ScriptedProvider(["I think the agent should try harder."]) }).extract(trajectories), { experiences: [], invalid: 1 });
  const failing = createLlmExtractor({ provider: new ScriptedProvider([]) });
  assert.deepEqual(await failing.extract(trajectories), { experiences: [], invalid: 1 });
  assert.equal(failing.failures, 1);
});

test("semantic advantage: better against worse attempts; edits of shown entries only; no call when all scored the same", async () => {
  const shown: Experience[] = [
    { id: 7, whenToUse: "told 0", content: "answer z", origin: "success", sourceTrajectories: [], sourceTasks: [], extractor: "rule", status: "active", runId: null, iteration: 0, createdAt: "", note: null, merges: 0 },
  ];
  const provider = new ScriptedProvider([
    JSON.stringify({
      edits: [
        { op: "modify", id: 7, content: `answer ${a}` },
        { op: "delete", id: 99, reason: "not shown" },
        { op: "add", when_to_use: "told 1", content: `answer ${b}` },
        { op: "rename", id: 7 },
      ],
    }),
  ]);
  const trajectories = await group();
  const result = await semanticAdvantage({ provider, group: trajectories, shown });
  assert.equal(result.compared, true);
  assert.equal(result.invalid, 2);
  assert.deepEqual(result.edits, [{ op: "modify", id: 7, content: `answer ${a}` }, { op: "add", when_to_use: "told 1", content: `answer ${b}` }]);
  const prompt = provider.requests[0].messages[1].content;
  assert.match(prompt, /LIBRARY ENTRIES SHOWN:\n\[7\] When told 0: answer z/);
  assert.match(prompt, /BETTER ATTEMPTS:\n--- attempt 1 \(shown the library\)\n/);
  assert.match(prompt, /WORSE ATTEMPTS:\n--- attempt 1\nstep 0 ACTION: .\nstep 0 OBSERVATION: 1\nstep 1 ACTION: .\nOUTCOME: failure \(score 0\.00\)$/);
  const same = [trajectories[0], trajectories[0]];
  const idle = new ScriptedProvider([]);
  assert.deepEqual(await semanticAdvantage({ provider: idle, group: same, shown }), { edits: [], invalid: 0, compared: false });
  assert.equal(idle.requests.length, 0);
});
