import { test } from "node:test";
import assert from "node:assert/strict";
import { parseHermesToolCalls } from "./hermes-tool-calls.js";

test("Hermes tool calls: arguments text is cut out as written; malformed blocks stay in the content", () => {
  const text =
    'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2.0}}\n</tool_call>\n' +
    '<tool_call>\n{"name": "broken", "arguments": {\n</tool_call>\n<tool_call>{"arguments":{"a":[1,{"b":2}]},"name":"f"}</tool_call>';
  const parsed = parseHermesToolCalls(text, (i) => `id${i}`);
  assert.deepEqual(
    parsed.toolCalls.map((c) => [c.id, c.function.name, c.function.arguments]),
    [
      ["id0", "get_weather", '{"city": "Paris", "days": 2.0}'],
      ["id1", "f", '{"a":[1,{"b":2}]}'],
    ],
  );
  assert.match(parsed.content, /^Let me look\./);
  assert.match(parsed.content, /"name": "broken"/);
  assert.deepEqual(parseHermesToolCalls("plain text", () => "x"), { content: "plain text", toolCalls: [] });
  assert.equal(parseHermesToolCalls('<tool_call>{"name": "g", "arguments": "{\\"x\\": 1}"}</tool_call>', () => "x").toolCalls[0].function.arguments, '{"x": 1}');
});

test("Hermes tool calls: a stream cut anywhere gives the calls and content of the whole text", async () => {
  const { HermesStreamParser } = await import("./hermes-tool-calls.js");
  const texts = [
    'Let me look.\n<tool_call>\n{"name": "a", "arguments": {"x": "</tool"}}\n</tool_call>\n<tool_call>\n{"name": "b", "arguments": {}}\n</tool_call>\nDone.  ',
    "  plain text with < and <tool and spaces  ",
    '<tool_call>{"name": "a", "arguments": {}}</tool_call>',
    'x <tool_call>{"broken"</tool_call> y <tool_call>{"name": "unterminated"',
  ];
  for (const text of texts) {
    const whole = parseHermesToolCalls(text, (i) => `id${i}`);
    for (let cut = 1; cut <= 7; cut++) {
      const parser = new HermesStreamParser((i) => `id${i}`);
      const events = [];
      for (let i = 0; i < text.length; i += cut) events.push(...parser.push(text.slice(i, i + cut)));
      events.push(...parser.end());
      const content = events.map((e) => (e.type === "content" ? e.text : "")).join("");
      const calls = events.flatMap((e) => (e.type === "tool_call" ? [e.call] : []));
      assert.deepEqual({ content, toolCalls: calls }, whole, `${JSON.stringify(text)} in pieces of ${cut}`);
    }
  }
  assert.deepEqual(parseHermesToolCalls(texts[0], (i) => `id${i}`).content, "Let me look.\nDone.");
  assert.equal(parseHermesToolCalls(texts[1], () => "x").content, texts[1]);
});
