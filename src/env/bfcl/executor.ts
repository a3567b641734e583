// Executes BFCL calls the way BFCL's execute_multi_turn_func_call does: one instance per involved class for the
// whole entry, a call's bare name resolved to the instance that has the method, the return value printed as
// Python would, and every failure turned into an "Error during execution: ..." observation, never a crash.
import { EvolverError } from "../../core/errors.js";
import { BFCL_API_CLASSES, BFCL_STATELESS_CLASSES } from "./apis/index.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./apis/types.js";
import { parseBfclCall, type BfclCall } from "./python/call-parser.js";
import { stringifyResult } from "./python/repr.js";
import { deepCopy, isPyDict, type PyDict, type PyValue } from "./python/value.js";

/** What an execution needs from a question entry or a vector line. */
export interface BfclEntrySetup {
  id: string;
  involved_classes: string[];
  initial_config: PyDict;
}

export interface BfclExecutionOptions {
  /** Defaults to BFCL's rule: on exactly when the entry's category contains `long_context`. */
  longContext?: boolean;
  /** The class table; tests may pass their own. */
  classes?: Readonly<Record<string, BfclApiClass>>;
}

// BFCL refuses these names before evaluating anything.
const FORBIDDEN_FUNCTIONS = new Set(["kill", "exit", "quit", "remove", "unlink", "popen", "Popen", "run"]);

export const ERROR_PREFIX = "Error during execution: ";

/** The category of an id: the id without its trailing `_<n>`, as BFCL's checker computes it. */
export function bfclCategory(id: string): string {
  const cut = id.lastIndexOf("_");
  return cut < 0 ? id : id.slice(0, cut);
}

export function isLongContextEntry(id: string): boolean {
  const category = bfclCategory(id);
  return category.includes("long_context") || category.includes("composite");
}

interface Owner {
  className: string;
  method: BfclMethod;
}

export class BfclExecution {
  /** Involved instances by class name, in `involved_classes` order. */
  readonly instances = new Map<string, BfclApi>();
  private readonly owners = new Map<string, Owner>();

  constructor(readonly entry: BfclEntrySetup, options: BfclExecutionOptions = {}) {
    const classes = options.classes ?? BFCL_API_CLASSES;
    const longContext = options.longContext ?? isLongContextEntry(entry.id);
    for (const className of entry.involved_classes) {
      const apiClass = Object.hasOwn(classes, className) ? classes[className] : undefined;
      if (!apiClass) {
        throw new EvolverError("BFCL_UNKNOWN_CLASS", `entry ${entry.id}: unknown BFCL class '${className}'`, {
          details: { id: entry.id, className, known: Object.keys(classes) },
        });
      }
      const instance = apiClass.create();
      if (!BFCL_STATELESS_CLASSES.has(className)) {
        const config = entry.initial_config?.[className];
        instance.loadScenario(isPyDict(config) ? deepCopy(config) : {}, longContext);
      }
      this.instances.set(className, instance);
      // A later class wins a shared name, as in BFCL's mapping (no two classes share one in the data).
      for (const [name, method] of Object.entries(instance.methods)) {
        if (!name.startsWith("_")) this.owners.set(name, { className, method });
      }
    }
  }

  hasFunction(name: string): boolean {
    return this.owners.has(name);
  }

  /** The class that owns a function name, if any involved class does. */
  ownerOf(name: string): string | undefined {
    return this.owners.get(name)?.className;
  }

  /** Runs one call and returns the string BFCL records for it. */
  execute(call: BfclCall): string {
    if (FORBIDDEN_FUNCTIONS.has(call.name)) return `${ERROR_PREFIX}Function call ${call.name} is not allowed.`;
    const owner = this.owners.get(call.name);
    if (!owner) return `${ERROR_PREFIX}name '${call.name}' is not defined`;
    try {
      const args = bindArguments(`${owner.className}.${call.name}`, owner.method, call);
      const result = owner.method.call(args);
      return stringifyResult(result === undefined ? null : result);
    } catch (error) {
      return ERROR_PREFIX + errorText(error);
    }
  }

  /** Parses a Python call string (ground truth or vector) and runs it; a malformed string throws BFCL_PARSE. */
  executeText(callText: string): string {
    return this.execute(parseBfclCall(callText));
  }

  /** The public state of every involved instance, in `involved_classes` order. Live objects: copy to keep. */
  state(): Record<string, PyDict> {
    const state: Record<string, PyDict> = {};
    for (const [className, instance] of this.instances) state[className] = instance.state();
    return state;
  }
}

function errorText(error: unknown): string {
  if (error instanceof BfclCallError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Binds a call's arguments to the Python signature, raising CPython 3.10's TypeError texts in its order:
 * unexpected or repeated keywords first, then too many positional arguments, then missing ones. The values are
 * copies: Python evaluates a call's literals afresh each time, and backends keep (and later mutate) the lists
 * they are given, so a call run twice (episode, then grader) must not share them. */
export function bindArguments(qualname: string, method: BfclMethod, call: BfclCall): Record<string, PyValue> {
  const params = method.params;
  const args: Record<string, PyValue> = {};
  const bound = Math.min(call.positional.length, params.length);
  for (let i = 0; i < bound; i++) args[params[i].name] = deepCopy(call.positional[i]);
  for (const [name, value] of call.keyword) {
    if (!params.some((p) => p.name === name)) throw new BfclCallError(`${qualname}() got an unexpected keyword argument '${name}'`);
    if (Object.hasOwn(args, name)) throw new BfclCallError(`${qualname}() got multiple values for argument '${name}'`);
    args[name] = deepCopy(value);
  }
  if (call.positional.length > params.length) {
    // Python counts `self` among the positional arguments of a bound method.
    const most = params.length + 1;
    const least = params.filter((p) => p.required).length + 1;
    const takes = least === most ? `${most}` : `from ${least} to ${most}`;
    const plural = least === most && most === 1 ? "" : "s";
    throw new BfclCallError(`${qualname}() takes ${takes} positional argument${plural} but ${call.positional.length + 1} were given`);
  }
  const missing = params.filter((p) => p.required && !Object.hasOwn(args, p.name)).map((p) => `'${p.name}'`);
  if (missing.length > 0) {
    const names =
      missing.length === 1
        ? missing[0]
        : missing.length === 2
          ? `${missing[0]} and ${missing[1]}`
          : `${missing.slice(0, -1).join(", ")}, and ${missing[missing.length - 1]}`;
    throw new BfclCallError(`${qualname}() missing ${missing.length} required positional argument${missing.length === 1 ? "" : "s"}: ${names}`);
  }
  return args;
}
