import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChatMessage } from "../../core/messages.js";
import { createContextStrategy, droppedIds } from "./index.js";

// system, user (pinned: 2), then 4 turns of assistant call + tool result.
function episode(turns = 4): ChatMessage[] {
  const history: ChatMessage[] = [
    { role: "system", content: "You are a file agent." },
    { role: "user", content: "Tidy the docs folder." },
  ];
  for (let t = 0; t < turns; t++) {
    history.push({
      role: "assistant",
      content: "",
      reasoning_content: `thinking ${t}`,
      tool_calls: [{ id: `c${t}`, type: "function", function: { name: "ls", arguments: "{}" } }],
    });
    history.push({ role: "tool", tool_call_id: `c${t}`, name: "ls", content: `listing ${t}` });
  }
  return history;
}

// Every strategy: keeps the task, ends with the newest message, keeps tool results paired with their calls,
// and does not touch its input.
for (const name of ["linear", "linear-no-thinking", "sliding-window:2", "self-context-clip", "tool-retrieval:4"]) {
  test(`context contract: ${name}`, () => {
    const strategy = createContextStrategy(name);
    const history = episode();
    const before = structuredClone(history);
    const prompt = strategy.build({ history, pinned: 2 });
    assert.deepEqual(history, before);
    assert.ok(prompt.some((m) => m.role === "user" && m.content.includes("Tidy the docs folder.")));
    assert.match(prompt[prompt.length - 1].content, /listing 3/);
    const callIds = new Set(prompt.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id)));
    for (const m of prompt) if (m.role === "tool") assert.ok(callIds.has(m.tool_call_id!), `${name}: tool result ${m.tool_call_id} lost its call`);
    // tool-retrieval keeps the history as it is; only the tools it offers change (a new sequence then, model-drivers.ts).
    assert.equal(strategy.appendOnly, name === "linear" || name.startsWith("tool-retrieval"));
  });
}

test("linear: the prompt is the history", () => {
  const history = episode();
  assert.deepEqual(createContextStrategy("linear").build({ history, pinned: 2 }), history);
});

test("linear-no-thinking: earlier reasoning is gone, answers and calls stay", () => {
  const history = episode(2);
  history.push({ role: "assistant", content: "<think>long plan</think>Done, the folder is tidy." });
  const prompt = createContextStrategy("linear-no-thinking").build({ history, pinned: 2 });
  assert.equal(prompt.length, history.length);
  assert.ok(prompt.every((m) => m.reasoning_content === undefined));
  assert.equal(prompt[prompt.length - 1].content, "Done, the folder is tidy.");
  assert.deepEqual(prompt[2].tool_calls, history[2].tool_calls);
});

test("sliding-window: task + note + last N turns; short histories pass through", () => {
  const strategy = createContextStrategy("sliding-window:2");
  const history = episode(4); // 2 pinned + 8
  const prompt = strategy.build({ history, pinned: 2 });
  assert.deepEqual(prompt.slice(0, 2), history.slice(0, 2));
  assert.deepEqual(prompt[2], { role: "user", content: "[4 earlier messages were omitted to save context]" });
  assert.deepEqual(prompt.slice(3), history.slice(6));
  assert.deepEqual(strategy.build({ history: episode(2), pinned: 2 }), episode(2));
  assert.throws(() => createContextStrategy("sliding-window:0"), /maxTurns >= 1/);
  assert.throws(() => createContextStrategy("sliding-window:x"), /whole number/);
});

test("self-context-clip: labels, drop tags, stubs that keep the pairing, and the convention told to the model", () => {
  const strategy = createContextStrategy("self-context-clip");
  const history = episode(3);
  // Message 3 is the first tool result; 1 is pinned (cannot be dropped); 9 does not exist yet when the tag is written.
  history[6] = { ...history[6], content: '<drop ids="3, 1,9"/>' };
  const split = strategy.splitReply!('Next.<drop ids="3"/> <tool_call>{"name": "ls"}</tool_call>');
  assert.deepEqual(split, { answer: 'Next. <tool_call>{"name": "ls"}</tool_call>', markup: '<drop ids="3"/>' });
  assert.deepEqual([...droppedIds(history, 2)], [3]);
  const prompt = strategy.build({ history, pinned: 2 });
  assert.match(prompt[0].content, /^You are a file agent\.\n\nContext management: .*<drop ids="n,m"\/>/);
  assert.equal(prompt[1].content, "Tidy the docs folder.");
  assert.deepEqual(prompt[3], { role: "tool", tool_call_id: "c0", name: "ls", content: "[#3 dropped]" });
  assert.equal(prompt[5].content, "[#5] listing 1");
  assert.equal(prompt[2].content, ""); // assistant turns carry no label
  const withoutSystem = strategy.build({ history: history.slice(1), pinned: 1 });
  assert.equal(withoutSystem[0].role, "system");
});

test("unknown strategies are named", () => {
  assert.throws(() => createContextStrategy("summary"), /unknown context strategy 'summary'; known: linear/);
  assert.throws(() => createContextStrategy("linear:3"), /unknown context strategy/);
  assert.throws(() => createContextStrategy("tool-retrieval:0"), /k >= 1/);
  assert.throws(() => createContextStrategy("tool-retrieval:x"), /whole number/);
  assert.equal(createContextStrategy("tool-retrieval:12").name, "tool-retrieval:12");
});
