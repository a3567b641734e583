import json
import os
import tempfile
import unittest

import torch

from trainer.checkpoint_io import (
    load_hf_model,
    read_safetensors,
    save_hf_model,
    write_safetensors,
)
from trainer.lora import LoraConfig, adapter_state, apply_lora, load_adapter_state, merged_state
from trainer.checkpoint_io import build_model
from trainer.model import KVCache, RMSNorm, RotaryEmbedding, apply_rotary
from trainer.tiny import tiny_model

torch.manual_seed(0)


def tokens(*rows):
    return torch.tensor(rows, dtype=torch.long)


class ModelTest(unittest.TestCase):
    def test_shapes(self):
        model = tiny_model()
        logits = model(torch.randint(0, 96, (3, 7)))
        self.assertEqual(tuple(logits.shape), (3, 7, 96))
        self.assertEqual(logits.dtype, torch.float32)

    def test_causal_mask_hides_the_future(self):
        model = tiny_model()
        a = model(tokens([5, 6, 7, 8, 9]))
        b = model(tokens([5, 6, 7, 40, 41]))
        torch.testing.assert_close(a[:, :3], b[:, :3], rtol=0, atol=0)
        self.assertGreater((a[:, 3:] - b[:, 3:]).abs().max().item(), 1e-4)

    def test_rms_norm_formula(self):
        norm = RMSNorm(4, eps=1e-6)
        with torch.no_grad():
            norm.weight.copy_(torch.tensor([1.0, 2.0, 1.0, 1.0]))
        x = torch.tensor([[3.0, 4.0, 0.0, 0.0]])  # mean square = 25/4, rms = 2.5
        torch.testing.assert_close(norm(x), torch.tensor([[1.2, 3.2, 0.0, 0.0]]), rtol=1e-5, atol=1e-5)

    def test_rotary_scores_depend_only_on_the_offset(self):
        rotary = RotaryEmbedding(8, theta=10000.0)
        q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

        def score(pq, pk):
            cos_q, sin_q = rotary(torch.tensor([pq]))
            cos_k, sin_k = rotary(torch.tensor([pk]))
            return (apply_rotary(q, cos_q, sin_q) * apply_rotary(k, cos_k, sin_k)).sum()

        torch.testing.assert_close(score(5, 2), score(13, 10))
        self.assertGreater(abs(score(5, 2) - score(5, 4)).item(), 1e-6)

    def test_grouped_query_attention_equals_multi_head_with_repeated_kv(self):
        gqa = tiny_model(seed=3)  # 4 query heads share 2 kv heads
        mha = tiny_model(seed=4, num_key_value_heads=4)
        state = gqa.state_dict()
        hd = gqa.config.head_dim
        for name, tensor in list(state.items()):
            if ".k_proj." in name or ".v_proj." in name:
                # kv head h serves query heads 2h and 2h+1: repeat each head's rows twice
                state[name] = tensor.view(2, hd, *tensor.shape[1:]).repeat_interleave(2, dim=0).reshape(4 * hd, *tensor.shape[1:])
        mha.load_state_dict(state)
        x = torch.randint(0, 96, (2, 9))
        torch.testing.assert_close(gqa(x), mha(x), rtol=1e-5, atol=1e-5)

    def test_kv_cache_steps_equal_the_full_forward(self):
        model = tiny_model(seed=1)
        sequence = tokens([3, 14, 15, 92, 65, 35, 89, 79])
        full = model(sequence)
        cache = KVCache(model.config, 1, 16)
        first = model(sequence[:, :3], cache)  # prefill three, then one at a time
        steps = [model(sequence[:, i : i + 1], cache) for i in range(3, 8)]
        torch.testing.assert_close(torch.cat([first] + steps, dim=1), full, rtol=1e-5, atol=1e-5)

    def test_llama_variant_has_no_biases_and_an_untied_head(self):
        model = tiny_model(attention_bias=False, tie_word_embeddings=False)
        names = set(model.state_dict())
        self.assertNotIn("model.layers.0.self_attn.q_proj.bias", names)
        self.assertIsNot(model.lm_head.weight, model.model.embed_tokens.weight)


class CheckpointTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_save_load_round_trip(self):
        for overrides in ({}, {"attention_bias": False, "tie_word_embeddings": False}):
            model = tiny_model(seed=2, **overrides)
            out = os.path.join(self.dir, str(len(overrides)))
            save_hf_model(model, out)
            with open(os.path.join(out, "config.json")) as f:
                self.assertEqual(json.load(f)["model_type"], "llama" if overrides else "qwen2")
            loaded = load_hf_model(out)
            x = torch.randint(0, 96, (2, 6))
            torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)

    def test_safetensors_layout_and_half_precision(self):
        path = os.path.join(self.dir, "t.safetensors")
        tensors = {
            "a": torch.tensor([[1.0, -2.5], [3.0, 0.5]]),
            "b": torch.tensor([1.0, 2.0, -0.75], dtype=torch.bfloat16),
            "c": torch.tensor([0.1, 65504.0], dtype=torch.float16),
            "d": torch.tensor([7, -1], dtype=torch.int64),
        }
        write_safetensors(path, tensors, {"format": "pt"})
        with open(path, "rb") as f:
            header_length = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(header_length))
        self.assertEqual(header_length % 8, 0)
        self.assertEqual(header["b"], {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]})
        self.assertEqual(header["__metadata__"], {"format": "pt"})
        back, metadata = read_safetensors(path)
        for name, tensor in tensors.items():
            self.assertEqual(back[name].dtype, tensor.dtype)
            torch.testing.assert_close(back[name], tensor, rtol=0, atol=0)
        as_float = read_safetensors(path, torch.float32)[0]
        self.assertEqual(as_float["b"].dtype, torch.float32)
        self.assertEqual(as_float["d"].dtype, torch.int64)  # integer tensors are never converted

    def test_sharded_checkpoint(self):
        model = tiny_model(seed=5)
        save_hf_model(model, self.dir)
        state, _ = read_safetensors(os.path.join(self.dir, "model.safetensors"))
        os.remove(os.path.join(self.dir, "model.safetensors"))
        names = sorted(state)
        halves = {"model-00001-of-00002.safetensors": names[: len(names) // 2], "model-00002-of-00002.safetensors": names[len(names) // 2 :]}
        weight_map = {}
        for shard, shard_names in halves.items():
            write_safetensors(os.path.join(self.dir, shard), {n: state[n].to(torch.bfloat16) for n in shard_names})
            weight_map.update({n: shard for n in shard_names})
        with open(os.path.join(self.dir, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
        loaded = load_hf_model(self.dir)
        x = torch.randint(0, 96, (1, 5))
        # bf16 storage keeps ~3 significant digits of each weight
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=2e-2)

    def test_checkpoint_that_does_not_fit_is_refused(self):
        save_hf_model(tiny_model(), self.dir)
        with open(os.path.join(self.dir, "config.json")) as f:
            config = json.load(f)
        config["num_hidden_layers"] = 3
        with open(os.path.join(self.dir, "config.json"), "w") as f:
            json.dump(config, f)
        with self.assertRaisesRegex(ValueError, "missing"):
            load_hf_model(self.dir)


class LoraTest(unittest.TestCase):
    def test_fresh_adapter_leaves_the_model_unchanged(self):
        base = tiny_model(seed=6)
        adapted = build_model(base.config, base.state_dict(), share=False)
        apply_lora(adapted, LoraConfig(rank=4, seed=1))
        x = torch.randint(0, 96, (2, 8))
        torch.testing.assert_close(adapted(x), base(x), rtol=0, atol=0)
        trainable = [n for n, p in adapted.named_parameters() if p.requires_grad]
        self.assertEqual(len(trainable), 2 * 7 * base.config.num_hidden_layers)
        self.assertTrue(all(n.endswith((".lora_A", ".lora_B")) for n in trainable))

    def test_seed_fixes_a_and_merge_equals_unmerged(self):
        base = tiny_model(seed=7)
        one = build_model(base.config, base.state_dict(), share=False)
        two = build_model(base.config, base.state_dict(), share=False)
        apply_lora(one, LoraConfig(rank=4, seed=9))
        apply_lora(two, LoraConfig(rank=4, seed=9))
        for (name, a), (_, b) in zip(adapter_state(one).items(), adapter_state(two).items()):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
        with torch.no_grad():
            for name, p in one.named_parameters():
                if name.endswith(".lora_B"):
                    p.normal_(0, 0.1)
        x = torch.randint(0, 96, (2, 8))
        self.assertGreater((one(x) - base(x)).abs().max().item(), 1e-3)
        merged = build_model(base.config, merged_state(one), share=False)
        torch.testing.assert_close(merged(x), one(x), rtol=1e-5, atol=1e-5)
        load_adapter_state(two, adapter_state(one))
        torch.testing.assert_close(two(x), one(x), rtol=0, atol=0)

    def test_rank_zero_trains_everything(self):
        model = tiny_model()
        apply_lora(model, LoraConfig(rank=0))
        self.assertTrue(all(p.requires_grad for p in model.parameters()))


if __name__ == "__main__":
    unittest.main()
