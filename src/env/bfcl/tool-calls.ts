// Between the two ways a model calls BFCL functions: native tool calls with JSON arguments, and BFCL's prompting
// text `[f(a=1), g()]`. Both become a BfclCall for the executor; floats stay floats on either side.
import { EvolverError } from "../../core/errors.js";
import type { ToolCall } from "../../core/messages.js";
import { loadBfclFuncDocs } from "./data.js";
import { parseBfclCalls, type BfclCall } from "./python/call-parser.js";
import { parsePythonJson } from "./python/json.js";
import { PyJsonEncodeError, pyJsonDumps } from "./python/repr.js";
import { isPyDict } from "./python/value.js";

/**
 * A native tool call → BfclCall. Arguments are parsed keeping `10.0` a float, as BFCL's json.loads does; like BFCL's
 * decoding, empty arguments ("") are not JSON and arguments that are not an object have no items, so both throw.
 */
export function toolCallToBfclCall(call: ToolCall): BfclCall {
  const text = call.function.arguments;
  let args;
  try {
    args = parsePythonJson(text);
  } catch (error) {
    throw new EvolverError("BFCL_PARSE", `arguments of ${call.function.name} are not valid JSON: ${(error as Error).message}`);
  }
  if (!isPyDict(args)) throw new EvolverError("BFCL_PARSE", `arguments of ${call.function.name} must be a JSON object`);
  return { name: call.function.name, positional: [], keyword: Object.entries(args) };
}

/** Positional parameter names in signature order: the function docs list parameters in that order. */
function parameterNames(functionName: string, dataDir?: string): string[] | undefined {
  for (const docs of loadBfclFuncDocs(dataDir).values()) {
    const doc = docs.find((d) => d.name === functionName);
    if (doc) return Object.keys((doc.parameters.properties as Record<string, unknown> | undefined) ?? {});
  }
  return undefined;
}

/**
 * BFCL's prompting text → calls with JSON arguments (the agent's tool-call shape). Positional arguments are named
 * from the function docs. Throws BFCL_PARSE on text that is not a call list.
 */
export function parseBfclCallsAsJson(text: string, dataDir?: string): { name: string; arguments: string }[] {
  return parseBfclCalls(text).map((call) => {
    const args = new Map<string, (typeof call.keyword)[number][1]>();
    if (call.positional.length > 0) {
      const names = parameterNames(call.name, dataDir);
      if (!names || names.length < call.positional.length) {
        throw new EvolverError("BFCL_PARSE", `${call.name}() takes no more than ${names?.length ?? 0} positional arguments; name the arguments`);
      }
      call.positional.forEach((value, i) => args.set(names[i], value));
    }
    for (const [key, value] of call.keyword) {
      if (args.has(key)) throw new EvolverError("BFCL_PARSE", `${call.name}() got multiple values for argument '${key}'`);
      args.set(key, value);
    }
    try {
      return { name: call.name, arguments: pyJsonDumps(args, { compact: false, ensureAscii: false }) };
    } catch (error) {
      if (error instanceof PyJsonEncodeError) throw new EvolverError("BFCL_PARSE", `arguments of ${call.name}: ${error.message}`);
      throw error;
    }
  });
}
