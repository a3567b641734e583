"""The bench's figure for an RL update's forward-backward: each shared prompt run once (shared_prefix.py) against every
datum run whole, on datums shaped as the quick start's (examples/key-chain.yaml): `prompts` prompts of
`prompt_length` tokens, `group` completions of each, `steps` sampled tokens each followed by an observation of
`observation` tokens, the completions all different (a policy that has learnt repeats completions, which saves more;
not counted here). Split into `mini_batches` forward_backward calls as src/recipe/train-stage.ts splits an update.

  python3 -m trainer.bench_update --base-model DIR [--rounds 5]

The two ways alternate round by round on one model, so that both meet the same machine load; it prints one JSON line,
{"shared_cpu_seconds", "whole_cpu_seconds" (medians over rounds of process CPU time per update), "datums", "tokens"}.
"""
import argparse
import json
import statistics
import tempfile
import time

from .service import TrainerService, default_lora
from .train_step import Datum

QUICK_START_LOSS = {"clip_low": 0.2, "clip_high": 0.28, "entropy_coeff": 0.1}


def grpo_datums(prompts: int, group: int, prompt_length: int, steps: int, observation: int, vocab_size: int):
    datums = []
    for p in range(prompts):
        prompt = [(p * 31 + i * 7 + 3) % vocab_size for i in range(prompt_length)]
        for c in range(group):
            sequence, weights = list(prompt), []
            for step in range(steps):
                sequence.append((p * 13 + c * 5 + step * 3 + 1) % vocab_size)  # the sampled token
                weights += [0.0] * (len(sequence) - 2 - len(weights)) + [1.0]  # trains the position predicting it
                sequence += [(p * 17 + step * 11 + i) % vocab_size for i in range(observation if step < steps - 1 else 0)]
            n = len(sequence) - 1
            weights += [0.0] * (n - len(weights))
            datums.append(Datum(sequence[:-1], {
                "target_tokens": sequence[1:], "weights": weights, "logprobs": [-2.0] * n,
                "advantages": [(-1.0) ** c] * n,
            }))
    return datums


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-model", required=True)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--prompt-length", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--observation", type=int, default=30)
    parser.add_argument("--mini-batches", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as checkpoints:
        service = TrainerService(args.base_model, checkpoints, "cpu", 0, 4096)
        service.create_model("bench", default_lora(0, 0))
        training = service.get("bench").training
        datums = grpo_datums(args.prompts, args.group, args.prompt_length, args.steps, args.observation, service.config.vocab_size)
        batches = [datums[b:: args.mini_batches] for b in range(args.mini_batches)]  # interleaved, as train-stage.ts

        def update(share: bool) -> float:
            training.share_prompts = share
            started = time.process_time()
            for batch in batches:
                training.forward_backward(batch, "evolver_ppo", QUICK_START_LOSS)
            training.model.zero_grad(set_to_none=True)
            return time.process_time() - started

        update(True), update(False)  # warm-up
        shared, whole = [], []
        for _ in range(args.rounds):
            shared.append(update(True))
            whole.append(update(False))
        print(json.dumps({"shared_cpu_seconds": statistics.median(shared), "whole_cpu_seconds": statistics.median(whole),
                          "datums": len(datums), "tokens": sum(len(d.tokens) for d in datums)}), flush=True)


if __name__ == "__main__":
    main()
