import { test } from "node:test";
import assert from "node:assert/strict";
import type { ToolCall } from "../core/messages.js";
import { parseToolCalls, toolCallSyntaxes, type ToolCallEvent } from "./tool-calls.js";
import type { ToolCallSyntax } from "./types.js";

const ids = { makeId: (i: number) => `id${i}` };
const call = (id: string, name: string, args: string): ToolCall => ({ id, type: "function", function: { name, arguments: args } });

test("Hermes tool calls: arguments text is cut out as written; malformed blocks stay in the content", () => {
  const text =
    'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 2.0}}\n</tool_call>\n' +
    '<tool_call>\n{"name": "broken", "arguments": {\n</tool_call>\n<tool_call>{"arguments":{"a":[1,{"b":2}]},"name":"f"}</tool_call>';
  const parsed = parseToolCalls("hermes", text, ids);
  assert.deepEqual(
    parsed.toolCalls.map((c) => [c.id, c.function.name, c.function.arguments]),
    [
      ["id0", "get_weather", '{"city": "Paris", "days": 2.0}'],
      ["id2", "f", '{"a":[1,{"b":2}]}'], // ids count attempts, the broken block included
    ],
  );
  assert.match(parsed.content, /^Let me look\./);
  assert.match(parsed.content, /"name": "broken"/);
  assert.deepEqual(parseToolCalls("hermes", "plain text", ids), { content: "plain text", toolCalls: [], errors: [] });
  assert.equal(parseToolCalls("hermes", '<tool_call>{"name": "g", "arguments": "{\\"x\\": 1}"}</tool_call>', ids).toolCalls[0].function.arguments, '{"x": 1}');
});

/** Every syntax: a stream cut anywhere gives the events of the whole text, in both modes. */
const streamCases: Record<ToolCallSyntax, string[]> = {
  hermes: [
    'Let me look.\n<tool_call>\n{"name": "a", "arguments": {"x": "</tool"}}\n</tool_call>\n<tool_call>\n{"name": "b", "arguments": {}}\n</tool_call>\nDone.  ',
    "  plain text with < and <tool and spaces  ",
    '<tool_call>{"name": "a", "arguments": {}}</tool_call>',
    'x <tool_call>{"broken"</tool_call> y <tool_call>{"name": "unterminated"',
  ],
  "llama3-json": [
    '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Zürich; CH"}}; {"name": "ls", "parameters": {}}',
    '  {"name": "a", "parameters": {"x": [1, {"y": "}"}]}}  ',
    "  <|python not a tag, a plain answer  ",
    "The answer is {4}.",
    '{"name": "ls", "parameters": {; {"name": "b"}',
    '{"name": "ok", "parameters": {}}; {"no_name": 1}',
  ],
  mistral: [
    'Checking.  [TOOL_CALLS] [{"name": "cd", "arguments": {"folder": "a"}, "id": "abcdefghi"}, {"name": "ls", "arguments": {}}]',
    "  a plain answer with [TOOL and [ brackets ",
    '[TOOL_CALLS]{"name": "ls", "arguments": {"a": "],["}}',
    "Hm [TOOL_CALLS] [{name: ls}]",
  ],
};

for (const [syntax, texts] of Object.entries(streamCases) as [ToolCallSyntax, string[]][]) {
  test(`${syntax}: a stream cut anywhere gives the calls, content and errors of the whole text`, () => {
    for (const invalid of ["content", "report"] as const) {
      for (const text of texts) {
        const whole = parseToolCalls(syntax, text, { ...ids, invalid });
        for (let cut = 1; cut <= 7; cut++) {
          const parser = toolCallSyntaxes[syntax].parser({ ...ids, invalid });
          const events: ToolCallEvent[] = [];
          for (let i = 0; i < text.length; i += cut) events.push(...parser.push(text.slice(i, i + cut)));
          events.push(...parser.end());
          const content = events.map((e) => (e.type === "content" ? e.text : "")).join("");
          const toolCalls = events.flatMap((e) => (e.type === "tool_call" ? [e.call] : []));
          const errors = events.flatMap((e) => (e.type === "invalid" ? [{ message: e.message }] : e.type === "tool_call" && e.problem ? [{ callId: e.call.id, message: e.problem }] : []));
          assert.deepEqual({ content, toolCalls, errors }, whole, `${invalid}: ${JSON.stringify(text)} in pieces of ${cut}`);
        }
        // Nothing is lost in content mode: an answer without readable calls is its text.
        if (invalid === "content" && whole.toolCalls.length === 0) assert.equal(whole.content.replace(/\s+/g, ""), text.replace(/\s+/g, ""), text);
      }
    }
  });
}

test("what each family writes is read: Llama 3.1 python_tag and ';', Mistral content before [TOOL_CALLS]", () => {
  const [llamaText, llamaPlain] = streamCases["llama3-json"];
  const llama = parseToolCalls("llama3-json", llamaText, ids);
  assert.deepEqual(llama.toolCalls, [call("id0", "get_weather", '{"city": "Zürich; CH"}'), call("id1", "ls", "{}")]);
  assert.equal(llama.content, "");
  assert.equal(parseToolCalls("llama3-json", llamaPlain, ids).toolCalls[0].function.arguments, '{"x": [1, {"y": "}"}]}');
  assert.equal(parseToolCalls("llama3-json", "The answer is {4}.", ids).content, "The answer is {4}.");
  const bad = parseToolCalls("llama3-json", streamCases["llama3-json"][4], { ...ids, invalid: "report" });
  assert.deepEqual(bad.toolCalls, []);
  assert.equal(bad.errors.length, 1); // the ';' inside the unfinished object is not a separator

  const mistral = parseToolCalls("mistral", streamCases.mistral[0], ids);
  assert.equal(mistral.content, "Checking.");
  assert.deepEqual(mistral.toolCalls, [call("id0", "cd", '{"folder": "a"}'), call("id1", "ls", "{}")]);
  assert.deepEqual(parseToolCalls("mistral", streamCases.mistral[2], ids).toolCalls, [call("id0", "ls", '{"a": "],["}')]);
  const unreadable = parseToolCalls("mistral", "Hm [TOOL_CALLS] [{name: ls}]", ids);
  assert.equal(unreadable.content, "Hm [TOOL_CALLS] [{name: ls}]"); // content mode keeps the text as written
  assert.match(parseToolCalls("mistral", "[TOOL_CALLS] [{name: ls}]", { ...ids, invalid: "report" }).errors[0].message, /invalid JSON after \[TOOL_CALLS\]/);
});

test("each family's format is read back by its parser, arguments byte for byte", () => {
  const calls = [call("id0", "cd", '{"folder": "docs"}'), call("id1", "fill_fuel_tank", '{"fuelAmount": 10.0, "unit": null}')];
  for (const spec of Object.values(toolCallSyntaxes)) {
    const parsed = parseToolCalls(spec.name, spec.format(calls), ids);
    assert.deepEqual(parsed, { content: "", toolCalls: calls, errors: [] }, spec.name);
  }
});
