// Answers that carry tool lists, written as JSON text with each tool's text made once. A create answers with the
// task's whole tool list (18 tools, 12 KB for a BFCL task): stringifying it on every create cost more CPU than the
// create's own work, about 40-90 µs. Environments hand out the same tool objects to every instance of a task and
// never change them (tool retrieval finds a tool's vector by the object's identity too), so a tool's text is cached
// by object. A tool object that is not reused only misses the cache.
/** An answer body already written as JSON; the server sends `text` as it is. */
export class JsonText {
  constructor(readonly text: string) {}
}

const toolTexts = new WeakMap<object, string>();

function toolsText(tools: readonly object[]): string {
  let text = "[";
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i];
    let own = toolTexts.get(tool);
    if (own === undefined) {
      own = JSON.stringify(tool);
      toolTexts.set(tool, own);
    }
    text += i === 0 ? own : `,${own}`;
  }
  return `${text}]`;
}

/** `{"success":true,"data":data}`, where `data.tools` (if present) comes last, from the cache. */
export function successText(data: Record<string, unknown> & { tools?: readonly object[] }): JsonText {
  const { tools, ...rest } = data;
  let text = JSON.stringify(rest);
  if (tools) text = `${text.slice(0, -1)}${text.length > 2 ? "," : ""}"tools":${toolsText(tools)}}`;
  return new JsonText(`{"success":true,"data":${text}}`);
}

/** `{"success":true,"data":tools}`. */
export function successToolsText(tools: readonly object[]): JsonText {
  return new JsonText(`{"success":true,"data":${toolsText(tools)}}`);
}
