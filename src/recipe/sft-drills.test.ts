// The SFT warm start's experience drills (sft.experience_drills): one-turn key-chain sequences with experiences in
// front of the task, rendered and placed as self-navigating's retrieval puts them, the experiences out of the loss and
// the answer in it; the first experience names the task's prompt with a random answer, which is the completion.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { KeyChainEnvironment } from "../env/index.js";
import { EXPERIENCE_HEADER } from "../evolve/navigating/index.js";
import { Qwen2ChatTemplate, Tokenizer, writeTinyModel } from "../llm/index.js";
import { parseConfig } from "./config.js";
import { experienceDrills, readReferences } from "./sft-stage.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-sft-drills-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const model = writeTinyModel(join(dir, "tiny"), { formats: ["hf"], seed: 0 }).hfDir!;
const template = new Qwen2ChatTemplate({ tokenizer: Tokenizer.fromFile(join(model, "tokenizer.json")) });
const options = { length: 3, symbols: 6, letters: 3, train_digits: 3 };
const env = new KeyChainEnvironment(options);

function config(seed: number, placement: "user" | "system" = "user", retrieval: "episode" | "turn" = "episode") {
  return parseConfig({
    run: { seed },
    env: { type: "key-chain", options },
    policy: { base_model: model },
    navigating: { k: 3, placement, retrieval },
    sft: { enabled: true, experience_drills: 90 },
  });
}

/** A drill decoded: the experience lines, the prompt the task opens with, and the trained answer. */
function read(drill: { tokens: number[]; lossMask: number[] }) {
  const text = template.decode(drill.tokens);
  const trained = template.decode(drill.tokens.filter((_, i) => drill.lossMask[i] === 1));
  const lines = text.split("\n").filter((line) => /^\d+\. When you are told: /.test(line));
  const prompt = /<\|im_start\|>user\n(\d( \d)*)<\|im_end\|>/.exec(text.slice(text.lastIndexOf(EXPERIENCE_HEADER)))![1];
  return { text, trained, lines, prompt };
}

test("experience drills: the prompt carries k experiences as retrieval renders them, the answer alone is trained", async () => {
  const tasks = await env.listTasks("train");
  const drills = await experienceDrills({ config: config(0), env, template, references: await readReferences(env, tasks) });
  assert.equal(drills.length, 90);
  let right = 0;
  for (const drill of drills) {
    const { text, trained, lines, prompt } = read(drill);
    assert.equal(lines.length, 3, text);
    assert.match(trained, /^[abc]<\|im_end\|>$/);
    // The experience is a user turn before the task's first user turn, after the task's system prompt.
    assert.ok(text.indexOf("Open each lock with one letter.") < text.indexOf(EXPERIENCE_HEADER));
    assert.ok(text.indexOf(EXPERIENCE_HEADER) < text.lastIndexOf(`<|im_start|>user\n${prompt}<|im_end|>`));
    // The first names the prompt, as the most similar experience does in retrieval; the others name other prompts.
    const own = /^1\. When you are told: (\d( \d)*): answer "(\w)"; "(\w)" did not work\.$/.exec(lines[0])!;
    assert.equal(own[1], prompt, lines[0]);
    assert.ok(lines.slice(1).every((line) => !line.includes(`told: ${prompt}:`)), text);
    // The completion is what it says, right or not.
    assert.equal(trained.charAt(0), own[3]);
    if (own[3] === env.secret[Number(prompt.charAt(0))]) right += 1;
  }
  // The answer is the right letter only about one time in three: the drills teach reading, not the map.
  assert.ok(right > 90 / 6 && right < 90 / 2, `${right} of 90 drill answers right`);
});

test("experience drills: system placement puts them in a system turn; the same seed gives the same drills", async () => {
  const tasks = await env.listTasks("train");
  const drills = await experienceDrills({ config: config(1, "system"), env, template, references: await readReferences(env, tasks) });
  assert.match(template.decode(drills[0].tokens), new RegExp(`<\\|im_start\\|>system\\n${EXPERIENCE_HEADER.replace(/[()]/g, "\\$&")}`));
  assert.deepEqual(await experienceDrills({ config: config(1, "system"), env, template, references: await readReferences(env, tasks) }), drills);
  assert.notDeepEqual(await experienceDrills({ config: config(2, "system"), env, template, references: await readReferences(env, tasks) }), drills);
});

test("experience drills: train tasks whose references all start with one answer cannot make one, and say so", async () => {
  const single = new KeyChainEnvironment({ length: 2, symbols: 4 });
  const zeros = (await single.listTasks("train")).filter((id) => id.startsWith("kc-0"));
  await assert.rejects(experienceDrills({ config: config(0), env: single, template, references: await readReferences(single, zeros) }), /1 distinct first answer\(s\); a drill needs two/);
});

test("experience drills with retrieval per turn: the whole chain, each turn's experience names it and its answer is trained", async () => {
  const tasks = await env.listTasks("train");
  const drills = await experienceDrills({ config: config(0, "user", "turn"), env, template, references: await readReferences(env, tasks) });
  assert.equal(drills.length, 90);
  let right = 0;
  for (const drill of drills) {
    const text = template.decode(drill.tokens);
    // Per turn: the experience, then the digit it names, then the answer it gives (trained).
    const turns = [...text.matchAll(/1\. When you are told: (\d( \d)*): answer "(\w)"(?:; "\w"(?:, "\w")* did not work)?\.\n(?:\d\. [^\n]*\n)*<\|im_start\|>user\n(\d( \d)*)<\|im_end\|>\n<\|im_start\|>assistant\n(\w)<\|im_end\|>/g)];
    assert.equal(turns.length, 3, text);
    for (const turn of turns) {
      assert.equal(turn[1], turn[4]);
      assert.equal(turn[6], turn[3]);
      if (turn[3] === env.secret[Number(turn[4].charAt(0))]) right += 1;
    }
    const trained = template.decode(drill.tokens.filter((_, i) => drill.lossMask[i] === 1));
    assert.equal(trained, turns.map((t) => `${t[3]}<|im_end|>`).join(""));
  }
  assert.ok(right > 270 / 6 && right < 270 / 2, `${right} of 270 answers right`);
  // Worded as the pool words them: one or two answers that did not work, or (rule_successes every) none.
  const forms = (list: typeof drills) => new Set(list.flatMap((d) => [...template.decode(d.tokens).matchAll(/^1\. When [^\n]*: answer "\w"(; "\w"(, "\w")?)?/gm)].map((m) => (m[1] ? (m[2] ? 2 : 1) : 0))));
  assert.deepEqual([...forms(drills)].sort(), [1, 2]);
  const every = parseConfig({ ...config(0, "user", "turn"), navigating: { k: 3, retrieval: "turn", rule_successes: "every" } });
  assert.deepEqual([...forms(await experienceDrills({ config: every, env, template, references: await readReferences(env, tasks) }))].sort(), [0, 1, 2]);
  // Retrieval per episode keeps the one-turn drills, exactly as before.
  const once = await experienceDrills({ config: config(0), env, template, references: await readReferences(env, tasks) });
  assert.ok(once.every((drill) => template.decode(drill.tokens).split(EXPERIENCE_HEADER).length === 2));
});
