import unittest

import numpy as np
import torch

from trainer.checkpoint_io import build_model
from trainer.lora import LoraConfig, apply_lora
from trainer.train_step import AdamParams, Datum, TrainingModel, UserError, micro_batches
from trainer.tiny import tiny_model


def make_trainer(rank=4, micro_batch_tokens=2048, seed=0, dtype=torch.float32):
    base = tiny_model(seed=seed).to(dtype)
    model = build_model(base.config, base.state_dict(), share=False)
    lora = LoraConfig(rank=rank, seed=1)
    apply_lora(model, lora)
    if rank > 0:
        generator = torch.Generator().manual_seed(2)
        with torch.no_grad():  # nonzero B so that gradients reach A as well
            for name, p in model.named_parameters():
                if name.endswith(".lora_B"):
                    p.normal_(0, 0.05, generator=generator)
    return TrainingModel(model, lora, micro_batch_tokens)


def rl_datums(count=5, seed=0):
    """Datums of different lengths with every input the RL losses read, from a full sequence s: (s[:-1], s[1:])."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(count):
        n = 4 + 3 * i
        s = torch.randint(0, 96, (n + 1,), generator=g).tolist()
        out.append(Datum(s[:-1], {
            "target_tokens": s[1:],
            "weights": [float(i % 3 != 0 or t > 1) for t in range(n)],
            "logprobs": (-4.6 + 0.3 * torch.randn(n, generator=g)).tolist(),
            "advantages": [(-1.0) ** i * (0.5 + 0.1 * t) for t in range(n)],
            "ref_logprobs": (-4.6 + 0.3 * torch.randn(n, generator=g)).tolist(),
            "experience_guided": [float(i % 2)],
        }))
    return out


def only(datums, keys):
    return [Datum(d.tokens, {k: v for k, v in d.inputs.items() if k in keys}) for d in datums]


LOSSES = [
    ("cross_entropy", {}, ["target_tokens", "weights"]),
    ("importance_sampling", {}, ["target_tokens", "weights", "logprobs", "advantages"]),
    ("ppo", {"clip_low_threshold": 0.9, "clip_high_threshold": 1.1}, ["target_tokens", "weights", "logprobs", "advantages"]),
    ("evolver_ppo", {"aggregation": "seq-mean-token-mean", "kl_beta": 0.1, "clip_high_boost": 0.4}, None),
    ("evolver_ppo", {"aggregation": "token-mean", "dual_clip_c": 2.0}, None),
    ("evolver_ppo", {"aggregation": "seq-mean-token-mean", "entropy_coeff": 0.05, "kl_beta": 0.1}, None),
]


def grads(trainer):
    return {n: p.grad.clone() for n, p in trainer.trainable().items()}


def assert_same_step(test, label, a, out_a, b, out_b, grad_rtol, logprob_rtol):
    """Two trainers' forward_backward on the same data gave the same loss, gradients and logprobs."""
    test.assertAlmostEqual(out_a["metrics"]["loss:sum"], out_b["metrics"]["loss:sum"], places=10)
    for name, g in grads(a).items():
        torch.testing.assert_close(grads(b)[name], g, rtol=grad_rtol, atol=1e-12, msg=f"{label} {name}")
    for x, y in zip(out_a["loss_fn_outputs"], out_b["loss_fn_outputs"]):
        np.testing.assert_allclose(y["logprobs"], x["logprobs"], rtol=logprob_rtol)


class TrainStepTest(unittest.TestCase):
    def test_micro_batches_respect_the_token_budget(self):
        self.assertEqual(micro_batches([4, 4, 4, 4], 12), [[0, 1, 2], [3]])
        self.assertEqual(micro_batches([20], 8), [[0]])  # a datum longer than the budget goes alone

    def test_micro_batches_keep_datums_of_like_length_together(self):
        # a long datum would pad every short one to its length: it goes apart even where the budget has room
        self.assertEqual(micro_batches([5, 5, 9, 5], 100), [[0, 1, 3], [2]])
        self.assertEqual(micro_batches([4, 4, 4, 10, 2], 12), [[4], [0, 1, 2], [3]])
        # within LENGTH_SPREAD of the shortest they share one, in their order (a group's members stay side by side)
        self.assertEqual(micro_batches([10, 12, 11, 10], 100), [[0, 3, 2, 1]])

    def test_micro_batching_and_split_calls_equal_one_big_batch(self):
        # in float64, so that "equal" can mean 1e-10 rather than float32 summation noise
        datums = rl_datums()
        for loss_fn, config, keys in LOSSES:
            data = datums if keys is None else only(datums, keys)
            whole = make_trainer(micro_batch_tokens=4096, dtype=torch.float64)
            out_whole = whole.forward_backward(data, loss_fn, config)
            tiny_batches = make_trainer(micro_batch_tokens=10, dtype=torch.float64)
            out_small = tiny_batches.forward_backward(data, loss_fn, config)
            assert_same_step(self, loss_fn, whole, out_whole, tiny_batches, out_small, grad_rtol=1e-10, logprob_rtol=1e-12)
            if loss_fn != "evolver_ppo":  # a plain sum: two calls accumulate to the same gradient as one
                split = make_trainer(dtype=torch.float64)
                split.forward_backward(data[:2], loss_fn, config)
                split.forward_backward(data[2:], loss_fn, config)
                for name, g in grads(whole).items():
                    torch.testing.assert_close(grads(split)[name], g, rtol=1e-10, atol=1e-12)

    def test_elementwise_loss_and_logprobs_per_datum(self):
        datums = only(rl_datums(3), ["target_tokens", "weights"])
        out = make_trainer().forward_backward(datums, "cross_entropy", None, backward=False)
        for datum, result in zip(datums, out["loss_fn_outputs"]):
            self.assertEqual(len(result["logprobs"]), len(datum.tokens))
            expected = [-w * lp for w, lp in zip(datum.inputs["weights"], result["logprobs"])]
            np.testing.assert_allclose(result["elementwise_loss"], expected, rtol=1e-6)
        self.assertAlmostEqual(out["metrics"]["loss:sum"], sum(sum(r["elementwise_loss"]) for r in out["loss_fn_outputs"]), places=4)

    def test_adamw_step_matches_the_reference_formula(self):
        trainer = make_trainer(rank=0)
        adam = AdamParams(learning_rate=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, grad_clip_norm=0.5)
        datums = only(rl_datums(3), ["target_tokens", "weights"])
        params = {n: p.detach().double().numpy().copy() for n, p in trainer.trainable().items()}
        m = {n: np.zeros_like(v) for n, v in params.items()}
        v = {n: np.zeros_like(x) for n, x in params.items()}
        for step in (1, 2):
            trainer.forward_backward(datums, "cross_entropy", None)
            g = {n: p.grad.double().numpy().copy() for n, p in trainer.trainable().items()}
            norm = np.sqrt(sum((x**2).sum() for x in g.values()))
            scale = min(1.0, adam.grad_clip_norm / (norm + 1e-6))  # torch's clip_grad_norm_
            before = {n: p.detach().double().numpy().copy() for n, p in trainer.trainable().items()}
            metrics = trainer.optim_step(adam)
            self.assertAlmostEqual(metrics["grad_norm:mean"], norm, places=4)
            # the step's norm is how far the weights moved, less weight decay's shrink of them
            moved = np.sqrt(sum(((p.detach().double().numpy() - before[n] * (1 - adam.learning_rate * adam.weight_decay)) ** 2).sum()
                                for n, p in trainer.trainable().items()))
            self.assertAlmostEqual(metrics["step_norm:mean"], moved, delta=1e-4 * moved)
            for n in params:
                grad = g[n] * scale
                m[n] = adam.beta1 * m[n] + (1 - adam.beta1) * grad
                v[n] = adam.beta2 * v[n] + (1 - adam.beta2) * grad**2
                m_hat, v_hat = m[n] / (1 - adam.beta1**step), v[n] / (1 - adam.beta2**step)
                params[n] = params[n] * (1 - adam.learning_rate * adam.weight_decay)  # decoupled weight decay
                params[n] = params[n] - adam.learning_rate * m_hat / (np.sqrt(v_hat) + adam.eps)
            for n, p in trainer.trainable().items():
                np.testing.assert_allclose(p.detach().double().numpy(), params[n], rtol=1e-5, atol=1e-6, err_msg=n)
                self.assertIsNone(p.grad)  # optim_step clears the accumulated gradients

    def memorize(self, rank, learning_rate, steps):
        trainer = make_trainer(rank=rank)
        s = list(range(10, 40))
        datum = Datum(s[:-1], {"target_tokens": s[1:]})
        adam = AdamParams(learning_rate=learning_rate, beta2=0.99)
        losses = []
        for _ in range(steps):
            losses.append(trainer.forward_backward([datum], "cross_entropy", None)["metrics"]["loss:sum"])
            trainer.optim_step(adam)
        return losses

    def test_full_fine_tuning_memorizes_a_sequence(self):
        losses = self.memorize(rank=0, learning_rate=1e-2, steps=30)
        self.assertLess(losses[-1], 0.1 * losses[0])

    def test_lora_lowers_the_loss(self):
        # the tiny model's embeddings (std 0.02) cap its logits, so a LoRA can lower the loss but not drive it to 0
        losses = self.memorize(rank=8, learning_rate=2e-2, steps=15)
        self.assertLess(losses[-1], 0.95 * losses[0])

    def test_state_round_trip_continues_identically(self):
        datums = only(rl_datums(3), ["target_tokens", "weights"])
        adam = AdamParams(learning_rate=1e-2)
        one = make_trainer()
        for _ in range(2):
            one.forward_backward(datums, "cross_entropy", None)
            one.optim_step(adam)
        two = make_trainer()
        two.load_weight_tensors(one.weight_tensors())
        two.load_optimizer_tensors(one.optimizer_tensors())
        for trainer in (one, two):
            trainer.forward_backward(datums, "cross_entropy", None)
            trainer.optim_step(adam)
        for name, p in one.trainable().items():
            torch.testing.assert_close(two.trainable()[name], p, rtol=0, atol=0)

    def test_bad_datums_are_user_errors(self):
        trainer = make_trainer()
        good = Datum([1, 2, 3], {"target_tokens": [2, 3, 4]})
        cases = [
            ([good], "dro", {}, "unknown loss_fn"),
            ([good], "ppo", {}, "needs loss_fn_inputs"),
            ([Datum([1, 2, 3], {"target_tokens": [2, 3]})], "cross_entropy", {}, "has 2 values"),
            ([Datum([1, 2, 300], {"target_tokens": [2, 3, 4]})], "cross_entropy", {}, "outside the vocabulary"),
            ([good], "cross_entropy", {"clip_low_threshold": 0.5}, "not read by"),
            ([], "cross_entropy", {}, "at least one datum"),
        ]
        for datums, loss_fn, config, message in cases:
            with self.assertRaisesRegex(UserError, message):
                trainer.forward_backward(datums, loss_fn, config)


if __name__ == "__main__":
    unittest.main()


class KlToReferenceTest(unittest.TestCase):
    """kl_beta > 0 with no ref_logprobs in the datums: the trainer takes them from its reference (the frozen base)."""

    def setUp(self):
        torch.manual_seed(0)

    def make(self, rank):
        base = tiny_model(seed=0)
        reference = build_model(base.config, base.state_dict(), share=False).eval()
        for p in reference.parameters():
            p.requires_grad_(False)
        model = build_model(base.config, base.state_dict(), share=False)
        lora = LoraConfig(rank=rank, seed=1)
        apply_lora(model, lora)
        return TrainingModel(model, lora, reference=reference)

    @staticmethod
    def kl(trainer, datums):
        from trainer.loss import low_var_kl
        values = []
        with torch.no_grad():
            for d in datums:
                tokens, targets = torch.tensor([d.tokens]), torch.tensor([d.inputs["target_tokens"]])
                lp = trainer.model(tokens).log_softmax(-1).gather(-1, targets[..., None])[0, :, 0]
                ref = trainer.reference(tokens).log_softmax(-1).gather(-1, targets[..., None])[0, :, 0]
                values.append(low_var_kl(lp, ref).mean())
        return float(torch.stack(values).mean())

    def train(self, trainer, kl_beta, steps=12):
        # positive advantages on every token: the policy moves away from the base; the sampler logprobs follow it
        datums = [Datum(d.tokens, {k: v for k, v in d.inputs.items() if k != "ref_logprobs"}) for d in rl_datums(3)]
        curve = [self.kl(trainer, datums)]
        for _ in range(steps):
            out = trainer.forward_backward(datums, "evolver_ppo", {"kl_beta": kl_beta, "clip_high": 10.0, "dual_clip_c": None}, backward=False)
            for d, o in zip(datums, out["loss_fn_outputs"]):
                d.inputs["logprobs"] = o["logprobs"]  # on-policy: ratio 1, so clipping never stops the push
                d.inputs["advantages"] = [1.0] * len(d.tokens)
            trainer.forward_backward(datums, "evolver_ppo", {"kl_beta": kl_beta, "clip_high": 10.0, "dual_clip_c": None})
            trainer.optim_step(AdamParams(learning_rate=3e-2))
            curve.append(self.kl(trainer, datums))
        return curve, out

    def test_kl_grows_as_the_policy_moves_and_the_penalty_holds_it_closer(self):
        for rank in (0, 4):
            free, _ = self.train(self.make(rank), kl_beta=0.0)
            held, out = self.train(self.make(rank), kl_beta=20.0)
            self.assertLess(free[0], 1e-9)  # the policy starts at the reference
            self.assertGreater(free[1], 0.0)
            self.assertGreater(free[-1], free[1])  # it keeps moving away
            self.assertLess(held[-1], 0.5 * free[-1], f"rank {rank}: {held} vs {free}")
            self.assertGreater(out["metrics"]["kl:sum"], 0.0)  # the trainer computed the KL from its reference

    def test_without_a_reference_kl_needs_ref_logprobs(self):
        trainer = make_trainer()
        datums = [Datum(d.tokens, {k: v for k, v in d.inputs.items() if k != "ref_logprobs"}) for d in rl_datums(2)]
        with self.assertRaisesRegex(UserError, "kl_beta > 0 needs ref_logprobs"):
            trainer.forward_backward(datums, "evolver_ppo", {"kl_beta": 0.1})
        trainer.forward_backward(rl_datums(2), "evolver_ppo", {"kl_beta": 0.1})  # the datums bring their own
