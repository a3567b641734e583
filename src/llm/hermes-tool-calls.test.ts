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
