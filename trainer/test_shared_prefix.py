import unittest

import numpy as np
import torch

from trainer.shared_prefix import plan
from trainer.test_train_step import LOSSES, assert_same_step, grads, make_trainer, only
from trainer.train_step import Datum


def group_datums(seed=0):
    """Three prompts of different lengths, each with several completions of different lengths, some of them
    repeated, as GRPO groups are: weight 0 on the prompt, 1 on the sampled tokens, 0 on the observations between."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for prompt_length, completions in ((5, 4), (9, 3), (2, 5)):
        prompt = torch.randint(0, 96, (prompt_length,), generator=g).tolist()
        for c in range(completions):
            tail = torch.randint(0, 96, (3 + c % 3 * 2,), generator=g).tolist() if c != 1 else None
            rest = out[-1][1] if tail is None else tail  # the second completion repeats the first
            out.append((prompt, rest))
    datums = []
    for i, (prompt, rest) in enumerate(out):
        s = prompt + rest
        n = len(s) - 1
        datums.append(Datum(s[:-1], {
            "target_tokens": s[1:],
            "weights": [float(t >= len(prompt) - 1 and t % 2 == (len(prompt) - 1) % 2) for t in range(n)],
            "logprobs": (-4.6 + 0.3 * torch.randn(n, generator=g)).tolist(),
            "advantages": [(-1.0) ** i * (0.5 + 0.1 * t) for t in range(n)],
            "ref_logprobs": (-4.6 + 0.3 * torch.randn(n, generator=g)).tolist(),
            "experience_guided": [float(i % 2)],
        }))
    # one datum with no trained token: its logprobs are still an output
    datums.append(Datum(datums[0].tokens, {**datums[0].inputs, "weights": [0.0] * len(datums[0].tokens)}))
    return datums


class SharedPrefixTest(unittest.TestCase):
    def test_plan_runs_each_prompt_and_each_repeated_sequence_once(self):
        p = plan([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 3, 4], [7, 8, 9]], [2, 2, 2, 3])
        self.assertEqual(p.prompts, [[1, 2], [7, 8]])  # the last datum's prompt stops a token short: a suffix needs one
        self.assertEqual(p.suffixes, [[3, 4], [3, 5], [9]])
        self.assertEqual(p.datum_suffix, [0, 1, 0, 2])
        self.assertEqual(p.starts, [2, 2, 2, 2])
        self.assertTrue(p.saves_work)
        self.assertEqual(p.width, 4)
        self.assertFalse(plan([[1, 2], [3, 4]], [1, 1]).saves_work)

    def test_shared_prompts_give_the_update_of_whole_datums(self):
        # float64, so that "the same" can mean 1e-10 rather than float32 summation noise
        datums = group_datums()
        for loss_fn, config, keys in LOSSES:
            data = datums if keys is None else only(datums, keys)
            whole = make_trainer(dtype=torch.float64)
            whole.share_prompts = False
            shared = make_trainer(dtype=torch.float64)
            out_whole = whole.forward_backward(data, loss_fn, config)
            out_shared = shared.forward_backward(data, loss_fn, config)
            assert_same_step(self, loss_fn, whole, out_whole, shared, out_shared, grad_rtol=1e-9, logprob_rtol=1e-10)
            for a, b in zip(out_whole["loss_fn_outputs"], out_shared["loss_fn_outputs"]):
                np.testing.assert_allclose(b["elementwise_loss"], a["elementwise_loss"], rtol=1e-10, atol=1e-14)

    def test_only_trained_positions_go_through_the_head_with_a_gradient(self):
        # the head's backward at positions every loss weighs 0 is work for a zero gradient. One group of like length,
        # so that one micro-batch holds it and shares its prompt
        g = torch.Generator().manual_seed(1)
        prompt = torch.randint(0, 96, (6,), generator=g).tolist()
        datums = []
        for c in range(4):
            s = prompt + torch.randint(0, 96, (5,), generator=g).tolist()
            weights = [0.0] * 5 + [1.0, 0.0, 1.0, 0.0, float(c % 2)]
            datums.append(Datum(s[:-1], {"target_tokens": s[1:], "weights": weights, "logprobs": [-4.5] * 10, "advantages": [(-1.0) ** c] * 10}))
        shared = make_trainer(dtype=torch.float64)
        rows = []
        shared.model.lm_head.register_forward_hook(lambda module, inputs, output: rows.append(inputs[0].shape[:-1].numel()) if torch.is_grad_enabled() else None)
        shared.forward_backward(datums, "evolver_ppo", {"entropy_coeff": 0.05})
        self.assertEqual(sum(rows), 2 * 4 + 2)

    def test_full_fine_tuning_and_micro_batches_too(self):
        datums = only(group_datums(seed=3), ["target_tokens", "weights"])
        whole = make_trainer(rank=0, micro_batch_tokens=30, dtype=torch.float64)
        whole.share_prompts = False
        shared = make_trainer(rank=0, micro_batch_tokens=30, dtype=torch.float64)
        whole.forward_backward(datums, "cross_entropy", {})
        shared.forward_backward(datums, "cross_entropy", {})
        for name, g in grads(whole).items():
            torch.testing.assert_close(grads(shared)[name], g, rtol=1e-9, atol=1e-12, msg=name)

    def test_datums_near_the_context_limit_run_whole(self):
        # a long prompt with a short suffix beside a short prompt with a long suffix: padded, pass 2 would span 21
        # positions of a 14-position context
        long_prompt = Datum(list(range(1, 13)), {"target_tokens": list(range(2, 14)), "weights": [0.0] * 10 + [1.0, 1.0]})
        long_suffix = Datum(list(range(20, 33)), {"target_tokens": list(range(21, 34)), "weights": [0.0] * 2 + [1.0] * 11})
        datums = [long_prompt, long_prompt, long_suffix, long_suffix]
        whole = make_trainer(dtype=torch.float64)
        whole.share_prompts = False
        shared = make_trainer(dtype=torch.float64)
        for trainer in (whole, shared):
            trainer.model.config.max_position_embeddings = 14
        self.assertAlmostEqual(shared.forward_backward(datums, "cross_entropy", {})["metrics"]["loss:sum"],
                               whole.forward_backward(datums, "cross_entropy", {})["metrics"]["loss:sum"], places=10)


if __name__ == "__main__":
    unittest.main()
