import { test } from "node:test";
import assert from "node:assert/strict";
import { loadBfclGroundTruth, loadBfclQuestions } from "./data.js";
import { gradeBfclEntry } from "./grader.js";
import { parseBfclCall, type BfclCall } from "./python/call-parser.js";

// multi_turn_base_2 (GorillaFileSystem + TicketAPI), five turns:
//   0 cd documents, touch TeamNotes.txt   1 echo into it   2 diff with ideas.txt   3 cp/cd/mv   4 cat
const entry = loadBfclQuestions("base").find((e) => e.id === "multi_turn_base_2")!;
const groundTruth = loadBfclGroundTruth("base").get("multi_turn_base_2")!;
const asOneStepPerTurn = (turns: string[][]): BfclCall[][][] => turns.map((calls) => [calls.map(parseBfclCall)]);

test("the ground truth itself passes every turn", () => {
  const grade = gradeBfclEntry({ entry, groundTruth, modelTurns: asOneStepPerTurn(groundTruth) });
  assert.equal(grade.success, true, grade.error);
  assert.equal(grade.turnAccuracy, 1);
  assert.deepEqual(grade.turns.map((t) => t.passed), [true, true, true, true, true]);
});

test("calls spread over steps and turns still pass: results count from all turns so far", () => {
  // Turn 0 split over two assistant messages (steps): the checker combines a turn's steps.
  const turns = asOneStepPerTurn(groundTruth);
  turns[0] = [[parseBfclCall(groundTruth[0][0])], [parseBfclCall(groundTruth[0][1])]];
  assert.equal(gradeBfclEntry({ entry, groundTruth, modelTurns: turns }).success, true);
});

test("a wrong file name fails the turn on state, naming the class and attribute", () => {
  const turns = asOneStepPerTurn(groundTruth);
  turns[0] = [[parseBfclCall("cd(folder='documents')"), parseBfclCall("touch(file_name='Notes.txt')")]];
  const grade = gradeBfclEntry({ entry, groundTruth, modelTurns: turns });
  assert.equal(grade.success, false);
  assert.equal(grade.errorType, "multi_turn:instance_state_mismatch");
  assert.equal(grade.turns[0].failure, "instance_state_mismatch");
  assert.equal(grade.turns[0].stateDifferences[0].className, "GorillaFileSystem");
  assert.ok(grade.turnAccuracy < 1);
});

test("a missing result fails the response check; an empty turn fails as BFCL's empty response", () => {
  // Turn 2's diff changes no state, so only the response check can notice it is missing.
  const noDiff = asOneStepPerTurn(groundTruth);
  noDiff[2] = [[parseBfclCall("ls()")]];
  const grade = gradeBfclEntry({ entry, groundTruth, modelTurns: noDiff });
  assert.equal(grade.errorType, "multi_turn:execution_response_mismatch");
  assert.match(grade.error!, /for turn 2\./);
  assert.equal(grade.turns[2].missingResults.length, 1);

  const silent = asOneStepPerTurn(groundTruth);
  silent[4] = [];
  const empty = gradeBfclEntry({ entry, groundTruth, modelTurns: silent });
  assert.equal(empty.error, "Model response list is empty for turn 4");
  assert.deepEqual(empty.turns.map((t) => t.passed), [true, true, true, true, false]);
});

test("a different number of turns fails as force-terminated", () => {
  const grade = gradeBfclEntry({ entry, groundTruth, modelTurns: asOneStepPerTurn(groundTruth.slice(0, 3)) });
  assert.equal(grade.success, false);
  assert.equal(grade.errorType, "multi_turn:force_terminated");
});
