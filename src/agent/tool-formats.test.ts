import { test } from "node:test";
import assert from "node:assert/strict";
import type { ToolCall } from "../core/messages.js";
import { checkToolCalls, createToolFormat, nativeFormatFor } from "./tool-formats.js";

const call = (id: string, name: string, args: string): ToolCall => ({ id, type: "function", function: { name, arguments: args } });

test("hermes: calls round-trip through their text form, arguments byte for byte (10.0 stays 10.0)", () => {
  const hermes = createToolFormat("hermes");
  const calls = [call("c_0", "cd", '{"folder": "docs"}'), call("c_1", "fill_fuel_tank", '{"fuelAmount": 10.0, "unit": null}')];
  const text = hermes.format(calls, "Let me look.");
  const parsed = hermes.parse(text, "c");
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.content, "Let me look.");
  assert.deepEqual(parsed.toolCalls, calls);
  assert.equal(hermes.format(parsed.toolCalls, parsed.content), text);
});

test("hermes: text without calls is plain content; nested braces and tags inside strings parse", () => {
  const hermes = createToolFormat("hermes");
  assert.deepEqual(hermes.parse("  The answer is 4. ", "x"), { content: "The answer is 4.", toolCalls: [], errors: [] });
  const parsed = hermes.parse('<tool_call>{"name": "echo", "arguments": {"text": "}{ <b> \\"q\\"", "n": [1, {"a": 2}]}}</tool_call>', "x");
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.toolCalls[0].function.arguments, '{"text": "}{ <b> \\"q\\"", "n": [1, {"a": 2}]}');
});

test("hermes: malformed calls become errors, never exceptions, and good calls beside them survive", () => {
  const hermes = createToolFormat("hermes");
  const parsed = hermes.parse(
    [
      '<tool_call>{"name": "ls", "arguments": {}}</tool_call>',
      "<tool_call>{name: ls}</tool_call>",
      '<tool_call>{"arguments": {}}</tool_call>',
      '<tool_call>{"name": "cat", "arguments": "{\\"file\\": "}</tool_call>',
      '<tool_call>{"name": "mv", "arguments": {"a": 1}',
    ].join("\n"),
    "s3",
  );
  assert.deepEqual(parsed.toolCalls.map((c) => [c.id, c.function.name]), [["s3_0", "ls"], ["s3_3", "cat"]]);
  assert.equal(parsed.errors.length, 4);
  assert.match(parsed.errors[0].message, /invalid JSON in <tool_call>/);
  assert.match(parsed.errors[1].message, /needs a "name"/);
  assert.equal(parsed.errors[2].callId, "s3_3"); // the call is known, its arguments are not JSON
  assert.match(parsed.errors[2].message, /cat: arguments are not valid JSON/);
  assert.match(parsed.errors[3].message, /unterminated <tool_call>/);
  assert.equal(parsed.content, "");
});

test("native: backend-parsed calls are checked, text falls back to Hermes tags", () => {
  const native = createToolFormat("native");
  assert.equal(native.nativeTools, true);
  assert.deepEqual(checkToolCalls([call("a", "f", '{"x": 1}'), call("b", "g", "")]), []);
  const errors = checkToolCalls([call("a", "f", '{"x": '), call("b", "g", "[1]")]);
  assert.deepEqual(errors.map((e) => e.callId), ["a", "b"]);
  assert.match(errors[1].message, /must be a JSON object/);
  assert.equal(native.parse('<tool_call>{"name": "f", "arguments": {"x": 1}}</tool_call>', "n").toolCalls[0].function.name, "f");
});

test("tool descriptions name every tool; tool results are wrapped for raw models", () => {
  const tools = [{ type: "function" as const, function: { name: "cd", description: "Change directory", parameters: { type: "object", properties: {} } } }];
  const hermes = createToolFormat("hermes");
  assert.match(hermes.describeTools(tools), /<tools>\n\{"type":"function","function":\{"name":"cd"/);
  assert.equal(hermes.formatToolResults([{ role: "tool", content: "ok" }]), "<tool_response>\nok\n</tool_response>");
});

test("bfcl: calls are written as a Python call list, floats and strings as Python literals", () => {
  const bfcl = createToolFormat("bfcl");
  const text = bfcl.format([
    call("a", "fill_fuel_tank", '{"fuelAmount": 10.0, "unit": "it\'s", "ok": true, "none": null}'),
    call("b", "ls", "{}"),
  ]);
  assert.equal(text, `[fill_fuel_tank(fuelAmount=10.0, unit="it's", ok=True, none=None), ls()]`);
  assert.equal(bfcl.format([], " I need the file name. "), "I need the file name.");
  assert.match(bfcl.describeTools([]), /\[func_name1\(param1=value1/);
});

test("bfcl (with the BFCL environment's parser): calls round-trip, floats stay floats, positional args get names", () => {
  const bfcl = createToolFormat("bfcl");
  const calls = [call("b_0", "fillFuelTank", '{"fuelAmount": 10.0}'), call("b_1", "cd", '{"folder": "it\'s \\"here\\""}'), call("b_2", "pwd", "{}")];
  const text = bfcl.format(calls);
  assert.equal(text, `[fillFuelTank(fuelAmount=10.0), cd(folder='it\\'s "here"'), pwd()]`);
  const parsed = bfcl.parse(text, "b");
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.toolCalls, calls);
  // Without brackets, in a fence, with a positional argument (named from BFCL's function docs).
  const loose = bfcl.parse("```python\ncd('document')\n```", "y");
  assert.deepEqual(loose.toolCalls, [call("y_0", "cd", '{"folder": "document"}')]);
});

test("bfcl: plain answers have no calls; text meant as calls that does not parse is an error, not an exception", () => {
  const bfcl = createToolFormat("bfcl");
  assert.deepEqual(bfcl.parse("Which folder do you mean?", "x"), { content: "Which folder do you mean?", toolCalls: [], errors: [] });
  const parsed = bfcl.parse("```python\n[cd(folder='x'\n```", "x");
  assert.equal(parsed.toolCalls.length, 0);
  assert.match(parsed.errors[0].message, /cannot parse call: .*: \[cd\(folder='x'/);
  assert.equal(bfcl.parse("[f(x=__import__('os'))]", "x").errors.length, 1); // only literals are accepted
});

test("unknown formats are named errors", () => {
  assert.throws(() => createToolFormat("xml"), /unknown tool-call format 'xml'; known: native, hermes, bfcl/);
});

test("native per family: Llama 3.1 JSON calls and Mistral [TOOL_CALLS] round-trip, arguments byte for byte", () => {
  const calls = [call("t_0", "cd", '{"folder": "docs"}'), call("t_1", "fill_fuel_tank", '{"fuelAmount": 10.0, "unit": null}')];
  for (const syntax of ["hermes", "llama3-json", "mistral"] as const) {
    const format = nativeFormatFor(syntax);
    assert.equal(format.name, "native");
    assert.equal(format.nativeTools, true);
    const parsed = format.parse(format.format(calls), "t");
    assert.deepEqual(parsed.errors, [], syntax);
    assert.deepEqual(parsed.toolCalls, calls, syntax);
    assert.deepEqual(format.parse("The answer is 4.", "t"), { content: "The answer is 4.", toolCalls: [], errors: [] }, syntax);
  }
});

test("Llama 3.1: what the model writes (python_tag, 'parameters', ';' between calls) parses; bad JSON is an error, not an exception", () => {
  const llama = nativeFormatFor("llama3-json");
  const parsed = llama.parse('<|python_tag|>{"name": "get_weather", "parameters": {"city": "Zürich; CH"}}; {"name": "ls", "parameters": {}}', "s");
  assert.deepEqual(parsed.toolCalls.map((c) => [c.id, c.function.name, c.function.arguments]), [["s_0", "get_weather", '{"city": "Zürich; CH"}'], ["s_1", "ls", "{}"]]);
  assert.equal(parsed.content, "");
  const bad = llama.parse('{"name": "ls", "parameters": {', "s");
  assert.equal(bad.toolCalls.length, 0);
  assert.equal(bad.errors.length, 1);
});

test("Mistral: text before [TOOL_CALLS] is content; a single object is accepted; bad JSON is an error", () => {
  const mistral = nativeFormatFor("mistral");
  const parsed = mistral.parse('Checking.[TOOL_CALLS] [{"name": "cd", "arguments": {"folder": "a"}, "id": "abcdefghi"}]', "m");
  assert.equal(parsed.content, "Checking.");
  assert.deepEqual(parsed.toolCalls, [call("m_0", "cd", '{"folder": "a"}')]);
  assert.deepEqual(mistral.parse('[TOOL_CALLS]{"name": "ls", "arguments": {}}', "m").toolCalls, [call("m_0", "ls", "{}")]);
  const bad = mistral.parse("[TOOL_CALLS] [{name: ls}]", "m");
  assert.equal(bad.toolCalls.length, 0);
  assert.match(bad.errors[0].message, /invalid JSON after \[TOOL_CALLS\]/);
});
