"""A tiny random Qwen2 checkpoint for tests and benches: `python3 -m trainer.tiny OUT_DIR [--seed N]`."""
import argparse
from dataclasses import replace

from .checkpoint_io import save_hf_model
from .model import CausalLM, ModelConfig, init_random_weights

TINY = ModelConfig(
    vocab_size=96,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    rope_theta=10000.0,
    max_position_embeddings=256,
)


def tiny_model(seed: int = 0, **overrides) -> CausalLM:
    model = CausalLM(replace(TINY, **overrides))
    init_random_weights(model, seed)
    return model


def write_tiny_checkpoint(out_dir: str, seed: int = 0, **overrides) -> CausalLM:
    model = tiny_model(seed, **overrides)
    save_hf_model(model, out_dir)
    return model


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_tiny_checkpoint(args.out_dir, args.seed)
