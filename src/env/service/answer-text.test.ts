import { test } from "node:test";
import assert from "node:assert/strict";
import { successText, successToolsText } from "./answer-text.js";

const tool = (name: string) => ({ type: "function", function: { name, description: `does ${name}`, parameters: { type: "object", properties: {} } } });

test("an answer with tools is the JSON of the same answer, tools last", () => {
  const tools = [tool("ls"), tool("cd")];
  const data = { state: [{ role: "user", content: 'say "hi"\n' }], info: { task_id: "t", n: 1.5, missing: undefined }, tools };
  const text = successText(data).text;
  assert.equal(text, JSON.stringify({ success: true, data }));
  assert.deepEqual(JSON.parse(text), { success: true, data: JSON.parse(JSON.stringify(data)) });
});

test("answers without tools, with no other fields, and with an empty tool list", () => {
  assert.equal(successText({ state: [], reward: null }).text, '{"success":true,"data":{"state":[],"reward":null}}');
  assert.equal(successText({ tools: [tool("ls")] }).text, `{"success":true,"data":{"tools":[${JSON.stringify(tool("ls"))}]}}`);
  assert.equal(successText({ is_terminated: true, tools: [] }).text, '{"success":true,"data":{"is_terminated":true,"tools":[]}}');
  assert.equal(successToolsText([]).text, '{"success":true,"data":[]}');
});

test("tool texts are cached by object: a reused tool is written the same, another object with its own content", () => {
  const ls = tool("ls");
  const first = successToolsText([ls, ls]).text;
  assert.equal(first, JSON.stringify({ success: true, data: [ls, ls] }));
  assert.equal(successToolsText([ls]).text, JSON.stringify({ success: true, data: [ls] }));
  const other = { ...tool("ls"), function: { ...tool("ls").function, description: "another ls" } };
  assert.equal(successToolsText([other, ls]).text, JSON.stringify({ success: true, data: [other, ls] }));
});
