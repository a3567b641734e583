"""The baseline of `npm run bench -- --only env-replay`: BFCL's own Python backends replaying the same entries the
same way `evolver env replay --vectors QUESTIONS --out OUT` does. For every entry, every ground-truth turn runs through
BFCL's execute_multi_turn_func_call (its eval-run bookkeeping: one instance per class per entry, kept across turns),
the public state of each involved instance is written out (json.dumps) right after the turn, and the entry is
written as one JSON line of the vector format. BFCL's code is not part of Evolver: pass the folder that holds `bfcl_eval` (gorilla's
berkeley-function-call-leaderboard at the v3 data commit).

usage: python3 bfcl_python_replay.py BFCL_DIR QUESTIONS.json POSSIBLE_ANSWER.json OUT.jsonl
"""

import json
import sys


def main() -> None:
    bfcl_dir, questions_path, answers_path, out_path = sys.argv[1:5]
    sys.path.insert(0, bfcl_dir)
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import STATELESS_CLASSES, execute_multi_turn_func_call

    def encode(value):
        # What json cannot write by itself: the file system's nodes, sets and mpmath numbers.
        if isinstance(value, set):
            return sorted(value)
        if hasattr(value, "__dict__"):
            return {"__class__": type(value).__name__, **{k: v for k, v in vars(value).items() if k != "parent" and not k.startswith("_")}}
        return repr(value)

    def dumps(value):
        return json.dumps(value, default=encode, ensure_ascii=False, separators=(",", ":"))

    with open(answers_path, encoding="utf8") as f:
        truth = {row["id"]: row["ground_truth"] for row in map(json.loads, filter(str.strip, f))}
    lines = []
    with open(questions_path, encoding="utf8") as f:
        for entry in map(json.loads, filter(str.strip, f)):
            entry_id = entry["id"]
            long_context = "long_context" in entry_id.rsplit("_", 1)[0]
            turns = []
            for calls in truth[entry_id]:
                results, instances = execute_multi_turn_func_call(
                    calls, entry["initial_config"], entry["involved_classes"], "replay", entry_id, long_context=long_context, is_evaL_run=True
                )
                # A stateless class (MathAPI) has no state to keep: the vector format writes it as {}.
                state = {
                    name: {} if name in STATELESS_CLASSES else {k: v for k, v in vars(instances[name]).items() if not k.startswith("_")}
                    for name in entry["involved_classes"]
                }
                # The instances live on into the next turn and change there: the state is written out now, as
                # Evolver writes it, or every turn would show the entry's final state.
                turns.append(dumps({"calls": [{"call": c, "result": r} for c, r in zip(calls, results)], "state": state}))
            head = dumps({"id": entry_id, "involved_classes": entry["involved_classes"], "initial_config": entry["initial_config"]})
            lines.append(f'{head[:-1]},"turns":[{",".join(turns)}]}}')
    with open(out_path, "w", encoding="utf8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"replayed {len(lines)} entries")


if __name__ == "__main__":
    main()
