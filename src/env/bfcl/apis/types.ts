// The shape of one BFCL backend class (GorillaFileSystem, MathAPI, ...), written in TypeScript from BFCL's
// Python source. The executor instantiates a class per entry, loads the scenario, dispatches calls by name with
// keyword arguments, and reads the public state after every turn.
import type { PyDict, PyValue } from "../python/value.js";

export interface BfclParam {
  name: string;
  /** False when the Python signature gives a default; the method itself applies that default when absent. */
  required: boolean;
}

export interface BfclMethod {
  /** The Python signature without self, in order: positional arguments bind to these names. */
  params: readonly BfclParam[];
  /** Arguments by name (positional ones already bound). Throw `BfclCallError` for what Python would raise. */
  call(args: Record<string, PyValue>): PyValue;
}

export interface BfclApi {
  /** Python's `_load_scenario(scenario, long_context)`. */
  loadScenario(config: PyDict, longContext: boolean): void;
  /** The public methods, by Python name. */
  readonly methods: Record<string, BfclMethod>;
  /** Public attributes (no leading `_`), in creation order, in the vector serialisation of the data README. */
  state(): PyDict;
}

export interface BfclApiClass {
  /** Python class name, e.g. "GorillaFileSystem". */
  readonly className: string;
  /** The function-doc file stem, e.g. "gorilla_file_system". */
  readonly docFile: string;
  create(): BfclApi;
}

/** An exception raised inside a backend method; BFCL records it as "Error during execution: <message>". */
export class BfclCallError extends Error {}
