import unittest

import torch
import torch.nn.functional as F

from trainer.sampler import SamplingParams, filter_logits, prompt_logprobs, sample
from trainer.tiny import tiny_model

PROMPT = [1, 2, 3, 4]


def full_logprobs(model, sequence):
    """Log-probability of each token of `sequence` after the first, from one full forward."""
    logits = model(torch.tensor([sequence]))[0]
    return F.log_softmax(logits[:-1], -1).gather(-1, torch.tensor(sequence[1:])[:, None])[:, 0]


class SamplerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.model = tiny_model(seed=11).eval()

    def test_same_seed_same_samples_other_seed_other_samples(self):
        params = SamplingParams(max_tokens=12, temperature=1.0, seed=42)
        a = sample(self.model, PROMPT, params, num_samples=3)
        b = sample(self.model, PROMPT, params, num_samples=3)
        self.assertEqual([s.tokens for s in a], [s.tokens for s in b])
        c = sample(self.model, PROMPT, SamplingParams(max_tokens=12, temperature=1.0, seed=43), num_samples=3)
        self.assertNotEqual([s.tokens for s in a], [s.tokens for s in c])
        self.assertEqual(len({tuple(s.tokens) for s in a}), 3)  # the three samples draw differently

    def test_sample_i_uses_seed_plus_i(self):
        batch = sample(self.model, PROMPT, SamplingParams(max_tokens=10, seed=100), num_samples=3)
        alone = sample(self.model, PROMPT, SamplingParams(max_tokens=10, seed=102), num_samples=1)
        self.assertEqual(batch[2].tokens, alone[0].tokens)

    def test_logprobs_are_the_models_at_temperature_one(self):
        for temperature in (1.0, 0.7, 0.0):
            params = SamplingParams(max_tokens=8, temperature=temperature, top_p=0.9, seed=5)
            (sequence,) = sample(self.model, PROMPT, params)
            expected = full_logprobs(self.model, PROMPT + sequence.tokens)[len(PROMPT) - 1 :]
            torch.testing.assert_close(torch.tensor(sequence.logprobs), expected, rtol=1e-4, atol=1e-5)

    def test_greedy_takes_the_argmax_and_top_k_one_is_greedy(self):
        (greedy,) = sample(self.model, PROMPT, SamplingParams(max_tokens=6, temperature=0.0))
        sequence = list(PROMPT)
        for _ in range(6):
            sequence.append(int(self.model(torch.tensor([sequence]))[0, -1].argmax()))
        self.assertEqual(greedy.tokens, sequence[len(PROMPT) :])
        (top1,) = sample(self.model, PROMPT, SamplingParams(max_tokens=6, temperature=1.5, top_k=1, seed=3))
        self.assertEqual(top1.tokens, greedy.tokens)

    def test_stop_token_ends_and_is_included(self):
        (greedy,) = sample(self.model, PROMPT, SamplingParams(max_tokens=6, temperature=0.0))
        stop = greedy.tokens[2]
        first = greedy.tokens.index(stop)
        (stopped,) = sample(self.model, PROMPT, SamplingParams(max_tokens=6, temperature=0.0, stop_token_ids=[stop]))
        self.assertEqual(stopped.tokens, greedy.tokens[: first + 1])
        self.assertEqual(stopped.stop_reason, "stop")
        self.assertEqual(greedy.stop_reason, "length")
        self.assertEqual(len(greedy.tokens), 6)

    def test_top_p_keeps_the_smallest_set_reaching_p(self):
        logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
        kept = torch.isfinite(filter_logits(logits, top_k=-1, top_p=0.8))
        self.assertEqual(kept.tolist(), [[True, True, False, False]])  # 0.5 + 0.3 reaches 0.8
        kept = torch.isfinite(filter_logits(logits, top_k=-1, top_p=0.81))
        self.assertEqual(kept.tolist(), [[True, True, True, False]])
        kept = torch.isfinite(filter_logits(logits, top_k=2, top_p=1.0))
        self.assertEqual(kept.tolist(), [[True, True, False, False]])

    def test_prompt_logprobs(self):
        values = prompt_logprobs(self.model, PROMPT)
        self.assertIsNone(values[0])
        torch.testing.assert_close(torch.tensor(values[1:]), full_logprobs(self.model, PROMPT))


if __name__ == "__main__":
    unittest.main()
