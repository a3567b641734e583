import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The reference Jinja engine HF's JS libraries use; node-llama-cpp depends on it for model templates.
import { Template } from "@huggingface/jinja";
import type { ChatMessage, ToolSchema } from "../core/messages.js";
import { Qwen2ChatTemplate } from "./chat-template.js";
import { JinjaChatTemplate } from "./jinja-template.js";
import { createChatTemplate } from "./model-template.js";
import { pythonJsonText } from "./python-json.js";
import { qwen2ChatTemplate } from "./qwen2-jinja.js";
import { Tokenizer } from "./tokenizer.js";
import { writeTinyModel } from "./tiny-model.js";

const dir = mkdtempSync(join(tmpdir(), "evolver-tpl-"));
writeTinyModel(dir, { formats: ["hf"] });
const tokenizer = Tokenizer.fromFile(dir);
rmSync(dir, { recursive: true, force: true });
const template = new Qwen2ChatTemplate({ tokenizer });
const jinja = new Template(qwen2ChatTemplate);

const tools: ToolSchema[] = [
  {
    type: "function",
    function: { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } } } },
  },
  { type: "function", function: { name: "cd", description: "", parameters: { type: "object", properties: {} } } },
];

/** What the HF template produces for our messages (it wants call arguments as objects). */
function jinjaRender(messages: ChatMessage[], withTools: boolean, addGenerationPrompt: boolean): string {
  const wire = messages.map((m) => ({
    ...m,
    tool_calls: m.tool_calls?.map((c) => ({ ...c, function: { ...c.function, arguments: JSON.parse(c.function.arguments) } })),
  }));
  return jinja.render({ messages: wire, tools: withTools ? tools : undefined, add_generation_prompt: addGenerationPrompt });
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = ["weather", "the", "Zürich", "ls -la", "42", "ok", "naïve", "{\"a\": 1}", "line\nbreak", "漢字", "done."];

function randomConversation(random: () => number): ChatMessage[] {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const text = () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(words)).join(" ");
  const messages: ChatMessage[] = random() < 0.5 ? [{ role: "system", content: `System ${text()}` }] : [];
  const turns = 1 + Math.floor(random() * 5);
  for (let t = 0; t < turns; t++) {
    messages.push({ role: "user", content: `Q ${text()}` });
    if (random() < 0.5) {
      const calls = 1 + Math.floor(random() * 2);
      const toolCalls = Array.from({ length: calls }, (_, i) => ({
        id: `call_${t}_${i}`,
        type: "function" as const,
        function: { name: pick(["get_weather", "cd"]), arguments: JSON.stringify({ city: text(), n: [1, 2.5] }) },
      }));
      messages.push({ role: "assistant", content: random() < 0.5 ? "" : `Let me check ${text()}`, tool_calls: toolCalls });
      for (const call of toolCalls) messages.push({ role: "tool", tool_call_id: call.id, content: `result ${text()}` });
    }
    messages.push({ role: "assistant", content: `A ${text()}` });
  }
  return messages;
}

test("rendering matches the HF Jinja template, text and token ids", () => {
  const random = mulberry32(11);
  for (let round = 0; round < 40; round++) {
    const messages = randomConversation(random);
    for (const withTools of [false, true]) {
      const options = { tools: withTools ? tools : undefined };
      const expected = jinjaRender(messages, withTools, true);
      assert.equal(template.renderText(messages, { ...options, addGenerationPrompt: true }), expected);
      assert.deepEqual(template.render(messages, { ...options, addGenerationPrompt: true }), tokenizer.encode(expected));
      // Without a generation prompt, only the "\n" after the last <|im_end|> is left to the next turn.
      assert.equal(template.renderText(messages, { ...options, addGenerationPrompt: false }) + "\n", jinjaRender(messages, withTools, false));
    }
  }
});

test("the fast path is what the Jinja renderer gives for Qwen2.5's template, text and ids, and is picked only for that template", () => {
  const specialTokens = { eos_token: "<|im_end|>" };
  const viaJinja = new JinjaChatTemplate({ template: qwen2ChatTemplate, tokenizer, specialTokens });
  assert.ok(createChatTemplate({ template: qwen2ChatTemplate, tokenizer, specialTokens }) instanceof Qwen2ChatTemplate);
  assert.ok(createChatTemplate({ template: `${qwen2ChatTemplate} `, tokenizer, specialTokens }) instanceof JinjaChatTemplate);
  const random = mulberry32(12);
  for (let round = 0; round < 40; round++) {
    const messages = randomConversation(random);
    for (const options of [{ tools, addGenerationPrompt: true }, { tools: undefined, addGenerationPrompt: false }]) {
      assert.equal(template.renderText(messages, options), viaJinja.renderText(messages, options));
      assert.deepEqual(template.render(messages, options), viaJinja.render(messages, options));
    }
    const k = messages.findIndex((m, i) => i > 0 && messages[i - 1].role === "assistant");
    if (k > 0) {
      const continuation = { previous: messages.slice(0, k), tools, addGenerationPrompt: true };
      assert.deepEqual(template.renderContinuation(messages.slice(k), continuation), viaJinja.renderContinuation(messages.slice(k), continuation));
    }
  }
  assert.equal(viaJinja.appendOnlyProblem(), undefined);
  assert.deepEqual(viaJinja.stopTokens, template.stopTokens);
});

test("render(all) = render(prefix) ++ renderContinuation(rest) at every turn boundary", () => {
  const random = mulberry32(5);
  for (let round = 0; round < 40; round++) {
    const messages = randomConversation(random);
    const toolOptions = { tools: round % 2 ? tools : undefined };
    for (const addGenerationPrompt of [false, true]) {
      const all = template.render(messages, { ...toolOptions, addGenerationPrompt });
      for (let k = 1; k < messages.length; k++) {
        if (messages[k - 1].role === "tool" && messages[k].role === "tool") continue; // inside one user turn
        const prefix = template.render(messages.slice(0, k), { ...toolOptions, addGenerationPrompt: false });
        const rest = template.renderContinuation(messages.slice(k), { addGenerationPrompt });
        assert.deepEqual([...prefix, ...rest], all, `split at ${k}`);
      }
    }
  }
});

test("a sampled assistant turn (ending with <|im_end|>) continues the prompt exactly", () => {
  const random = mulberry32(9);
  for (let round = 0; round < 30; round++) {
    const messages = randomConversation(random);
    messages.forEach((message, k) => {
      if (message.role !== "assistant") return;
      const prompt = template.render(messages.slice(0, k), { tools, addGenerationPrompt: true });
      const sampled = template.renderAssistantCompletion(message);
      assert.equal(sampled[sampled.length - 1], template.stopTokens[0]);
      assert.deepEqual([...prompt, ...sampled], template.render(messages.slice(0, k + 1), { tools, addGenerationPrompt: false }));
    });
  }
});

test("a worked example: tool results of one assistant turn share one user turn", () => {
  const messages: ChatMessage[] = [
    { role: "user", content: "hi" },
    { role: "assistant", content: "", tool_calls: [{ id: "1", type: "function", function: { name: "cd", arguments: '{"folder":"a","n":1.0}' } }] },
    { role: "tool", tool_call_id: "1", content: "r1" },
    { role: "tool", tool_call_id: "2", content: "r2" },
  ];
  assert.equal(
    template.renderContinuationText(messages.slice(1), { addGenerationPrompt: true }),
    '\n<|im_start|>assistant\n<tool_call>\n{"name": "cd", "arguments": {"folder": "a", "n": 1.0}}\n</tool_call><|im_end|>' +
      "\n<|im_start|>user\n<tool_response>\nr1\n</tool_response>\n<tool_response>\nr2\n</tool_response><|im_end|>" +
      "\n<|im_start|>assistant\n",
  );
  assert.deepEqual(template.stopTokens, [tokenizer.tokenToId("<|im_end|>")]);
});

test("Python-style JSON keeps numbers as written and leaves bad JSON alone", () => {
  assert.equal(pythonJsonText('{"a":1.0,"b":[1,2],"c":"x,y:z"}'), '{"a": 1.0, "b": [1, 2], "c": "x,y:z"}');
  assert.equal(pythonJsonText('{"a": '), undefined);
});

test("pythonNumberText: a JSON number as Python's json.dumps(json.loads(...)) writes it", async () => {
  const { pythonNumberText } = await import("./python-json.js");
  // Each pair checked against CPython's json module: ints exact, floats by repr (positional from 1e-4 up to 1e16).
  const cases: [string, string][] = [
    ["1.0", "1.0"], ["1", "1"], ["-0", "0"], ["-0.0", "-0.0"], ["1e16", "1e+16"], ["1e15", "1000000000000000.0"],
    ["1.5e-5", "1.5e-05"], ["0.0001", "0.0001"], ["0.00001", "1e-05"], ["123456789012345678.0", "1.2345678901234568e+17"],
    ["12345678901234567890", "12345678901234567890"], ["2.50", "2.5"], ["1E+2", "100.0"], ["-7.25", "-7.25"], ["1e-7", "1e-07"],
    ["5e-324", "5e-324"], ["1e400", "Infinity"], ["123.456e3", "123456.0"], ["0.30000000000000004", "0.30000000000000004"],
  ];
  for (const [token, python] of cases) assert.equal(pythonNumberText(token), python, token);
  assert.equal(pythonJsonText('{"a":1.00,"b":[1E2, -0]}'), '{"a": 1.0, "b": [100.0, 0]}');
});
