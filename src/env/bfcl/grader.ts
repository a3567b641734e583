// BFCL's multi-turn checker: the model's calls and the ground truth are executed side by side, each in its own
// fresh execution, and after every turn with non-empty ground truth (a) every involved instance's public state
// must equal the ground truth's and (b) the turn's ground-truth results must all appear, as a multiset, among the
// model's results from all turns so far. An entry passes only if the turn counts match and every turn passes.
// Unlike BFCL, which stops at the first failure, every turn is graded so the details show per-turn accuracy.
import type { BfclCall } from "./python/call-parser.js";
import { BfclExecution, type BfclEntrySetup, type BfclExecutionOptions } from "./executor.js";
import { firstDifference } from "./replay.js";

export type BfclTurnFailure = "empty_turn_model_response" | "instance_state_mismatch" | "execution_response_mismatch";

export interface BfclStateDifference {
  className: string;
  attribute: string;
  /** Where inside the attribute the values first differ. */
  path: string;
}

export interface BfclTurnGrade {
  turn: number;
  /** False for turns with empty ground truth, which BFCL does not check. */
  checked: boolean;
  passed: boolean;
  failure?: BfclTurnFailure;
  stateDifferences: BfclStateDifference[];
  /** Ground-truth results of this turn not found among the model's results so far. */
  missingResults: string[];
  modelResults: string[];
  groundTruthResults: string[];
}

export interface BfclGrade {
  success: boolean;
  /** BFCL's message and error type for the first failure. */
  error?: string;
  errorType?: string;
  turns: BfclTurnGrade[];
  /** Passed checked turns / checked turns (1 when no turn is checked). */
  turnAccuracy: number;
}

export interface BfclGradeInput {
  entry: BfclEntrySetup;
  groundTruth: string[][];
  /** The model's decoded calls: per turn, per step (one assistant message), the calls of that step. */
  modelTurns: BfclCall[][][];
  options?: BfclExecutionOptions;
}

export function gradeBfclEntry(input: BfclGradeInput): BfclGrade {
  const { entry, groundTruth, modelTurns } = input;
  const model = new BfclExecution(entry, input.options);
  const truth = new BfclExecution(entry, input.options);
  const allModelResults: string[] = [];
  const turns: BfclTurnGrade[] = [];
  let error: string | undefined;
  let errorType: string | undefined;
  const fail = (message: string, type: string) => {
    if (error === undefined) (error = message), (errorType = type);
  };
  if (modelTurns.length !== groundTruth.length) {
    fail(
      `Model was force-terminated during inference phase. The length of the model result turns (${modelTurns.length}) does not match the length of the ground truth turns (${groundTruth.length}).`,
      "multi_turn:force_terminated",
    );
  }

  const turnCount = Math.min(modelTurns.length, groundTruth.length);
  for (let t = 0; t < turnCount; t++) {
    // A step that decoded to no call does not count as a response, as in BFCL's runner.
    const steps = modelTurns[t].filter((step) => step.length > 0);
    const modelResults = steps.flatMap((step) => step.map((call) => model.execute(call)));
    const groundTruthResults = groundTruth[t].map((call) => truth.executeText(call));
    allModelResults.push(...modelResults);
    const grade: BfclTurnGrade = { turn: t, checked: groundTruth[t].length > 0, passed: true, stateDifferences: [], missingResults: [], modelResults, groundTruthResults };
    turns.push(grade);
    if (!grade.checked) continue;

    if (steps.length === 0) {
      grade.passed = false;
      grade.failure = "empty_turn_model_response";
      fail(`Model response list is empty for turn ${t}`, "multi_turn:empty_turn_model_response");
      continue;
    }
    const modelState = model.state();
    for (const [className, state] of Object.entries(truth.state())) {
      for (const attribute of Object.keys(state)) {
        const path = firstDifference(state[attribute], modelState[className]?.[attribute], attribute);
        if (path) grade.stateDifferences.push({ className, attribute, path });
      }
    }
    if (grade.stateDifferences.length > 0) {
      grade.passed = false;
      grade.failure = "instance_state_mismatch";
      const className = grade.stateDifferences[0].className;
      fail(`Model instance for ${className} does not match the state with ground truth instance.`, "multi_turn:instance_state_mismatch");
      continue;
    }
    grade.missingResults = missingFromMultiset(groundTruthResults, allModelResults);
    if (grade.missingResults.length > 0) {
      grade.passed = false;
      grade.failure = "execution_response_mismatch";
      fail(
        `Model response execution results so far does not contain all the ground truth response execution results for turn ${t}.`,
        "multi_turn:execution_response_mismatch",
      );
    }
  }

  const checked = turns.filter((turn) => turn.checked);
  const turnAccuracy = checked.length === 0 ? 1 : checked.filter((turn) => turn.passed).length / checked.length;
  return { success: error === undefined, error, errorType, turns, turnAccuracy };
}

/** The items of `wanted` that `pool` cannot supply, each pool item used at most once. */
function missingFromMultiset(wanted: string[], pool: string[]): string[] {
  const counts = new Map<string, number>();
  for (const item of pool) counts.set(item, (counts.get(item) ?? 0) + 1);
  const missing: string[] = [];
  for (const item of wanted) {
    const left = counts.get(item) ?? 0;
    if (left > 0) counts.set(item, left - 1);
    else missing.push(item);
  }
  return missing;
}
