"""The losses, on the vectors shared with the TypeScript maths (test/vectors/attribution.json, section "losses")
and on small hand-worked cases for Tinker's own losses. Everything in float64."""
import json
import math
import os
import unittest

import torch

from trainer.loss import (
    EvolverPpoConfig,
    aggregation_weights,
    cross_entropy_token_losses,
    evolver_ppo_loss,
    importance_sampling_token_losses,
    tinker_ppo_token_losses,
    token_entropy,
)

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "vectors", "attribution.json")
TOLERANCE = 1e-6


def padded(values):
    """Rows of different lengths as one (B, T) tensor, right-padded with 0 (a mask of 0 leaves padding out)."""
    width = max(len(row) for row in values)
    return torch.tensor([list(row) + [0.0] * (width - len(row)) for row in values], dtype=torch.float64)


def run_case(case):
    inputs, config = case["inputs"], EvolverPpoConfig(**case["config"])
    logprobs = padded(inputs["logprobs"]).requires_grad_(True)
    ref = padded(inputs["ref_logprobs"]) if inputs["ref_logprobs"] is not None else None
    entropies = padded(inputs["entropies"]) if "entropies" in inputs else None
    guided = torch.tensor(inputs["experience_guided"], dtype=torch.bool)[:, None]
    result = evolver_ppo_loss(logprobs, padded(inputs["old_logprobs"]), padded(inputs["advantages"]), padded(inputs["mask"]),
                              config, guided, ref, entropies)
    (grads,) = torch.autograd.grad(result.loss, logprobs, allow_unused=True)
    return result, torch.zeros_like(logprobs) if grads is None else grads


class SharedVectorsTest(unittest.TestCase):
    def test_every_loss_vector(self):
        with open(VECTORS) as f:
            cases = json.load(f)["losses"]
        self.assertGreater(len(cases), 10)
        self.assertTrue(any(case["config"].get("entropy_coeff", 0) > 0 for case in cases))
        for case in cases:
            with self.subTest(case["name"]):
                expected = case["expected"]
                result, grads = run_case(case)
                terms = result.terms
                self.assertAlmostEqual(result.loss.item(), expected["loss"], delta=TOLERANCE)
                if "entropy" in expected:
                    self.assertAlmostEqual(result.entropy, expected["entropy"], delta=TOLERANCE)
                for name, got in (("token_losses", terms.policy), ("ratios", terms.ratios), ("grad_logprobs", grads)):
                    for row, e in enumerate(expected[name]):
                        torch.testing.assert_close(got[row, : len(e)].detach(), torch.tensor(e, dtype=torch.float64), rtol=0, atol=TOLERANCE,
                                                   msg=f"{case['name']}: {name}[{row}]")
                if expected["kl"] is not None:
                    for row, e in enumerate(expected["kl"]):
                        torch.testing.assert_close(terms.kl[row, : len(e)].detach(), torch.tensor(e, dtype=torch.float64), rtol=0, atol=TOLERANCE)
                trained = float((padded(case["inputs"]["mask"]) != 0).sum())
                clipped = float(terms.clipped.sum())
                self.assertAlmostEqual(clipped / trained if trained else 0.0, expected["clip_fraction"], delta=TOLERANCE)
                if "dual_clip_fraction" in expected:
                    dual = float(terms.dual_clipped.sum())
                    self.assertAlmostEqual(dual / trained if trained else 0.0, expected["dual_clip_fraction"], delta=TOLERANCE)


class PaddedBatchTest(unittest.TestCase):
    def test_padding_changes_nothing(self):
        """Rows of different lengths right-padded into one batch, the padding filled with wild values: the loss, each
        row's token losses and gradients equal each row's own, given the whole batch's aggregation weights."""
        generator = torch.Generator().manual_seed(7)
        lengths = [5, 2, 4]
        config = EvolverPpoConfig(kl_beta=0.1, entropy_coeff=0.05, clip_high_boost=0.5, aggregation="seq-mean-token-mean")

        def rand(n, scale=1.0):
            return torch.randn(n, generator=generator, dtype=torch.float64) * scale

        rows = [{"lp": rand(n, 0.5) - 1.0, "old": rand(n, 0.5) - 1.0, "adv": rand(n), "mask": (rand(n) > -0.8).double(),
                 "ref": rand(n, 0.5) - 1.0, "h": rand(n).abs()} for n in lengths]
        width = max(lengths)

        def batch(key, fill):
            return torch.stack([torch.cat((r[key], torch.full((width - len(r[key]),), fill, dtype=torch.float64))) for r in rows])

        logprobs = batch("lp", -40.0).requires_grad_(True)
        masks = batch("mask", 0.0)
        guided = torch.tensor([[True], [False], [True]])
        result = evolver_ppo_loss(logprobs, batch("old", 30.0), batch("adv", 1e6), masks, config, guided, batch("ref", 25.0), batch("h", 1e3))
        (grad,) = torch.autograd.grad(result.loss, logprobs)
        coefficients = aggregation_weights(masks, config.aggregation)
        total = 0.0
        for i, (r, n) in enumerate(zip(rows, lengths)):
            lp = r["lp"].clone().requires_grad_(True)
            alone = evolver_ppo_loss(lp[None], r["old"][None], r["adv"][None], r["mask"][None], config, guided[i : i + 1], r["ref"][None],
                                     r["h"][None], coefficients[i : i + 1, :n])
            (alone_grad,) = torch.autograd.grad(alone.loss, lp)
            total += alone.loss.item()
            torch.testing.assert_close(result.token_losses[i, :n].detach(), alone.token_losses[0].detach(), rtol=0, atol=1e-12)
            torch.testing.assert_close(grad[i, :n], alone_grad, rtol=0, atol=1e-12)
            self.assertEqual(result.token_losses[i, n:].abs().sum().item(), 0.0)
            self.assertEqual(grad[i, n:].abs().sum().item(), 0.0)
        self.assertAlmostEqual(result.loss.item(), total, delta=1e-12)
        self.assertGreater(abs(total), 0.0)


class AggregationTest(unittest.TestCase):
    def test_weights_sum_to_one_and_skip_empty_sequences(self):
        masks = padded([[1, 1], [0, 0, 0], [1, 1, 1]])  # the first row padded
        for aggregation in ("token-mean", "seq-mean-token-mean"):
            weights = aggregation_weights(masks, aggregation)
            self.assertAlmostEqual(float(weights.sum()), 1.0)
        # seq-mean-token-mean: two non-empty sequences, so each gets 1/2, spread over its own tokens
        weights = aggregation_weights(masks, "seq-mean-token-mean")
        self.assertEqual(weights[0].tolist(), [0.25, 0.25, 0.0])
        self.assertEqual(weights[1].tolist(), [0.0, 0.0, 0.0])
        self.assertAlmostEqual(weights[2][0].item(), 1 / 6)

    def test_bad_config_is_refused(self):
        for bad in ({"aggregation": "seq-sum"}, {"kl_type": "mse"}, {"dual_clip_c": 0.5}, {"entropy_coeff": -0.1}):
            with self.assertRaises(ValueError):
                EvolverPpoConfig(**bad)


class EntropyBonusTest(unittest.TestCase):
    """entropy_coeff subtracts coeff * H(p) at trained tokens, H over the full vocabulary of each position."""

    def test_value_and_gradient(self):
        # position 0: uniform over 4 tokens, H = ln 4; position 1: p = (1/2, 1/4, 1/8, 1/8), H = 1.75 ln 2;
        # position 2 is masked out. Zero advantages, so only the bonus is left: token-mean over 2 trained tokens.
        logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [math.log(4), math.log(2), 0.0, 0.0], [5.0, 0.0, 0.0, 0.0]],
                              dtype=torch.float64, requires_grad=True)
        entropy = token_entropy(logits)
        torch.testing.assert_close(entropy[:2].detach(), torch.tensor([math.log(4), 1.75 * math.log(2)], dtype=torch.float64))
        target = torch.tensor([0, 1, 2])
        lp = torch.log_softmax(logits, -1).gather(1, target[:, None])[:, 0]
        config = EvolverPpoConfig(entropy_coeff=0.1)
        zeros = torch.zeros(3, dtype=torch.float64)
        mask = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64)
        loss = evolver_ppo_loss(lp[None], lp.detach()[None], zeros[None], mask[None], config, torch.tensor([[False]]), entropies=entropy[None]).loss
        self.assertAlmostEqual(loss.item(), -0.1 * (math.log(4) + 1.75 * math.log(2)) / 2, delta=1e-12)
        (grad,) = torch.autograd.grad(loss, logits)
        # dH/dz_j = -p_j (ln p_j + H): the bonus pushes the likely token down and the unlikely ones up
        p = torch.softmax(logits.detach(), -1)
        h = entropy.detach()[:, None]
        expected = -0.1 / 2 * -p * (torch.log(p) + h) * mask[:, None]
        torch.testing.assert_close(grad, expected, rtol=0, atol=1e-12)
        self.assertEqual(grad[0].abs().max().item(), 0.0)  # uniform is the maximum: no push
        self.assertGreater(grad[1, 0].item(), 0.0)  # descent lowers the most likely token's logit
        self.assertLess(grad[1, 3].item(), 0.0)

    def test_zero_coefficient_needs_no_entropies(self):
        lp = torch.tensor([-1.0], dtype=torch.float64)
        loss = evolver_ppo_loss(lp[None], lp[None], torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([[1.0]], dtype=torch.float64),
                                EvolverPpoConfig(), torch.tensor([[False]])).loss
        self.assertAlmostEqual(loss.item(), -1.0)


class TinkerLossesTest(unittest.TestCase):
    """Spec §7. These are summed over tokens by the caller, so each test checks per-token values and gradients."""

    def test_cross_entropy_is_minus_weighted_logprob(self):
        lp = torch.tensor([-1.0, -2.0, -0.5], dtype=torch.float64, requires_grad=True)
        w = torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)
        losses = cross_entropy_token_losses(lp, w)
        self.assertEqual(losses.tolist(), [1.0, 0.0, 1.0])
        (grad,) = torch.autograd.grad(losses.sum(), lp)
        self.assertEqual(grad.tolist(), [-1.0, 0.0, -2.0])

    def test_importance_sampling(self):
        # lp - q = ln 2, so r = 2; A = 3, w = 0.5: L = -0.5 * 2 * 3 = -3, dL/dlp = -w A r = -3
        lp = torch.tensor([math.log(2.0) - 1.0], dtype=torch.float64, requires_grad=True)
        losses = importance_sampling_token_losses(lp, torch.tensor([-1.0], dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64),
                                                  torch.tensor([0.5], dtype=torch.float64))
        self.assertAlmostEqual(losses.item(), -3.0)
        (grad,) = torch.autograd.grad(losses.sum(), lp)
        self.assertAlmostEqual(grad.item(), -3.0)

    def test_ppo_clips_the_ratio_itself(self):
        # r = e^0.5 = 1.6487 > 1.2 with A = 1: min(1.6487, 1.2) = 1.2, L = -1.2, no gradient.
        # r = e^-0.5 = 0.6065 < 0.8 with A = 1: min(0.6065, 0.8) = 0.6065, L = -0.6065, gradient -0.6065.
        # r = e^-0.5 with A = -1: min(-0.6065, -0.8) = -0.8, L = 0.8, no gradient.
        lp = torch.tensor([0.5, -0.5, -0.5], dtype=torch.float64, requires_grad=True)
        zeros = torch.zeros(3, dtype=torch.float64)
        losses = tinker_ppo_token_losses(lp, zeros, torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64), torch.ones(3, dtype=torch.float64))
        torch.testing.assert_close(losses, torch.tensor([-1.2, -math.exp(-0.5), 0.8], dtype=torch.float64))
        (grad,) = torch.autograd.grad(losses.sum(), lp)
        torch.testing.assert_close(grad, torch.tensor([0.0, -math.exp(-0.5), 0.0], dtype=torch.float64))


if __name__ == "__main__":
    unittest.main()
