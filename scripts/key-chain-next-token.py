"""The policy's next-token distribution at one digit of a key-chain run, checkpoint by checkpoint: the probability of
each letter a-h with its rank among all tokens, of every other token together, and the most likely tokens,
averaged over the steps asking that digit in the rollouts of the iteration after the checkpoint (the contexts that
checkpoint sampled in). The plateau figures in docs/training.md ("What a plateau is") came from this. Run from the
repository root with the trainer's Python:
  /usr/bin/python3 scripts/key-chain-next-token.py .evolver/runs.db RUN-ID-OR-NAME DIGIT 50,60,80
"""
import json
import os
import sqlite3
import struct
import sys

import torch

sys.path.insert(0, os.getcwd())
from trainer.checkpoint_io import assign_weights, load_hf_model, read_safetensors  # noqa: E402


def main(argv):
    if len(argv) != 4:
        sys.exit("usage: scripts/key-chain-next-token.py RUNS.db RUN-ID-OR-NAME DIGIT ITERATION[,ITERATION...]")
    store, wanted, digit, iterations = argv[0], argv[1], argv[2], [int(x) for x in argv[3].split(",")]
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    row = db.execute("SELECT id, config_json FROM runs WHERE id = ? OR name = ?", (wanted, wanted)).fetchone()
    if row is None:
        sys.exit(f"no run '{wanted}' in {store}")
    run_id, config = row[0], json.loads(row[1])
    base = config["policy"]["base_model"]
    vocab = json.load(open(os.path.join(base, "tokenizer.json")))["model"]["vocab"]
    names = {index: token for token, index in vocab.items()}
    letters = {letter: vocab[letter] for letter in "abcdefgh"}
    model = load_hf_model(base).eval()
    for iteration in iterations:
        found = db.execute("SELECT path FROM checkpoints WHERE run_id = ? AND iteration = ? AND kind = 'training'", (run_id, iteration)).fetchone()
        if found is None:
            print(f"iteration {iteration}: no checkpoint")
            continue
        # tinker://MODEL/weights/it-N lives under the run's output folder
        relative = found[0].removeprefix("tinker://")
        path = os.path.join(config["run"]["output_dir"], run_id, "checkpoints", relative, "weights.safetensors")
        state, _ = read_safetensors(path)
        assign_weights(model, state, share=False)
        rows = db.execute("SELECT task_id, tokens, loss_mask FROM trajectories WHERE run_id = ? AND iteration = ? AND purpose = 'train'",
                          (run_id, iteration + 1)).fetchall()
        distributions = []
        for task_id, tokens, mask in rows:
            digits = task_id.removeprefix("kc-")
            ids = struct.unpack(f"<{len(tokens) // 4}i", tokens)
            sampled = [position for position, trained in enumerate(mask) if trained]  # one sampled token per step
            for step, position in enumerate(sampled[: len(digits)]):
                if digits[step] == digit:
                    with torch.no_grad():
                        logits = model(torch.tensor([ids[:position]]))[0, -1]
                    distributions.append(torch.softmax(logits.float(), dim=-1))
        if not distributions:
            print(f"iteration {iteration}: no step asks digit {digit}")
            continue
        p = torch.stack(distributions).mean(0)
        shares = {letter: float(p[index]) for letter, index in letters.items()}
        ranks = {letter: int((p > p[index]).sum()) + 1 for letter, index in letters.items()}
        top = torch.topk(p, 5)
        print(f"iteration {iteration} ({len(distributions)} steps): " + " ".join(f"{k} {v:.4f} (#{ranks[k]})" for k, v in shares.items())
              + f", other tokens {1 - sum(shares.values()):.3f}; most likely "
              + ", ".join(f"{names.get(int(i), int(i))!r} {float(v):.3f}" for v, i in zip(top.values, top.indices)))


if __name__ == "__main__":
    main(sys.argv[1:])
