// Reasoning models write their thinking inside <think>...</think> before the answer. The action the environment
// sees is the answer alone; the thinking is kept apart in `reasoning_content` (some context strategies drop it).

/**
 * Splits model output into thinking and answer. Handles a completion that starts inside the thinking block
 * (templates that put `<think>` in the prompt) and one cut off before `</think>` (all of it is thinking).
 */
export function splitThinking(text: string): { reasoning?: string; content: string } {
  const close = text.indexOf("</think>");
  if (close >= 0) {
    const before = text.slice(0, close);
    const open = before.indexOf("<think>");
    if (open >= 0 && before.slice(0, open).trim() !== "") return { content: text.trim() };
    const reasoning = (open >= 0 ? before.slice(open + "<think>".length) : before).trim();
    return { reasoning, content: text.slice(close + "</think>".length).trim() };
  }
  const open = text.indexOf("<think>");
  if (open >= 0 && text.slice(0, open).trim() === "") return { reasoning: text.slice(open + "<think>".length).trim(), content: "" };
  return { content: text.trim() };
}

/** Removes every <think>...</think> block (and an unclosed trailing one) from a message's text. */
export function stripThinking(text: string): string {
  return text
    .replace(/<think>[\s\S]*?<\/think>/g, "")
    .replace(/<think>[\s\S]*$/, "")
    .trim();
}
