"""The bench's baseline: the same forward-backward and sampling work as bench/trainer.ts sends through the protocol,
called directly on TrainerService in one Python process (no HTTP, no JSON, no futures).

  python3 -m trainer.bench_direct --base-model DIR --datums 8 --length 256 [--lora-rank 32]
                                  [--sample-tokens 64 --num-samples 4]

It answers commands on stdin, one JSON line each, so that the bench can interleave direct and protocol calls and
both see the same machine load: "fb" (one forward_backward, {"seconds", "cpu_seconds", "tokens"}), "sample" ({"seconds", "tokens"}),
"rss" ({"peak_rss_mb"}). It prints {"ready": true} once the model is loaded.
"""
import argparse
import json
import sys
import tempfile
import time

from .sampler import SamplingParams
from .service import TrainerService, default_lora
from .train_step import Datum


def bench_datums(count: int, length: int, vocab_size: int):
    """Deterministic token sequences; bench/trainer.ts builds exactly these (same formula)."""
    datums = []
    for d in range(count):
        sequence = [(d * 31 + i * 7 + 3) % vocab_size for i in range(length + 1)]
        datums.append(Datum(sequence[:-1], {"target_tokens": sequence[1:], "weights": [1.0] * length}))
    return datums


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-model", required=True)
    parser.add_argument("--datums", type=int, default=8)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--lora-rank", type=int, default=32)
    parser.add_argument("--micro-batch-tokens", type=int, default=2048)
    parser.add_argument("--sample-tokens", type=int, default=64)
    parser.add_argument("--num-samples", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as checkpoints:
        service = TrainerService(args.base_model, checkpoints, "cpu", args.lora_rank, args.micro_batch_tokens)
        service.create_model("bench", default_lora(args.lora_rank, 0))
        datums = bench_datums(args.datums, args.length, service.config.vocab_size)
        sampler_path = service.save_weights_for_sampler("bench", "bench")
        params = SamplingParams(max_tokens=args.sample_tokens, temperature=1.0, seed=0, stop_token_ids=[])
        prompt = datums[0].tokens[:16]
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            started, cpu_started = time.perf_counter(), time.process_time()
            if command == "fb":
                service.forward_backward("bench", datums, "cross_entropy", None, True)
                answer = {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_started,
                          "tokens": args.datums * args.length}
            elif command == "sample":
                result = service.sample(sampler_path, prompt, params, args.num_samples, False)
                answer = {"seconds": time.perf_counter() - started, "tokens": sum(len(s["tokens"]) for s in result["sequences"])}
            elif command == "rss":
                answer = {"peak_rss_mb": peak_rss_mb()}
            else:
                break
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
