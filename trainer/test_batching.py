"""Continuous batching gives what the unbatched sampler gives: the same tokens for the same seeds, the same logprobs
(to float32 summation noise), whatever else shares the batch; and it runs many sequences in one forward step."""
import threading
import time
import unittest

import torch

from trainer.batching import ContinuousBatcher, PreparedRequest, SampleRequest
from trainer.sampler import SamplingParams, sample
from trainer.tiny import tiny_model
from trainer.train_step import UserError


class Waiter:
    def __init__(self):
        self.done = threading.Event()
        self.result = self.error = None

    def finish(self, result, error):
        self.result, self.error = result, error
        self.done.set()


def start(test, **options):
    batcher = ContinuousBatcher(**options)
    test.addCleanup(batcher.close)
    return batcher


def submit(batcher, model, prompt, params, num_samples=1, prompt_logprobs=False):
    waiter = Waiter()
    batcher.submit(SampleRequest(lambda: PreparedRequest(model, prompt, params, num_samples, prompt_logprobs), waiter.finish))
    return waiter


class BatchingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = tiny_model(seed=11).eval()
        cls.other = tiny_model(seed=12).eval()

    def requests(self):
        """Prompts of different lengths, every sampling setting, stop tokens, several samples; two models."""
        g = torch.Generator().manual_seed(3)
        out = []
        for i in range(24):
            prompt = torch.randint(0, 96, (2 + (i * 7) % 19,), generator=g).tolist()
            params = SamplingParams(max_tokens=1 + (i * 5) % 9, temperature=[1.0, 0.7, 0.0, 1.3][i % 4],
                                    top_p=[1.0, 0.9][i % 2], top_k=[-1, 5, -1][i % 3],
                                    stop_token_ids=[int(x) for x in torch.randint(0, 96, (i % 3,), generator=g)], seed=100 + i)
            out.append((self.model if i % 5 else self.other, prompt, params, 1 + i % 3))
        return out

    def test_batched_results_equal_unbatched(self):
        cases = self.requests()
        batcher = start(self)
        waiters = [submit(batcher, *case) for case in cases]
        for waiter, (model, prompt, params, n) in zip(waiters, cases):
            self.assertTrue(waiter.done.wait(120))
            self.assertIsNone(waiter.error)
            expected = sample(model, prompt, params, n)
            got = waiter.result["sequences"]
            self.assertEqual([s["tokens"] for s in got], [s.tokens for s in expected], f"prompt {prompt} {params}")
            self.assertEqual([s["stop_reason"] for s in got], [s.stop_reason for s in expected])
            for g, e in zip(got, expected):
                torch.testing.assert_close(torch.tensor(g["logprobs"]), torch.tensor(e.logprobs), rtol=0, atol=1e-5)

    def test_requests_in_flight_share_decode_steps(self):
        # 32 requests of 8 tokens each, submitted before the loop can take them one by one: far fewer than 32 * 7
        # decode forwards (the unbatched count)
        batcher = start(self)
        hold = threading.Event()
        first = Waiter()
        batcher.submit(SampleRequest(lambda: (hold.wait(), PreparedRequest(self.model, [1, 2], SamplingParams(max_tokens=1), 1))[1],
                                     first.finish))
        waiters = [submit(batcher, self.model, [1, 2, 3 + i % 50], SamplingParams(max_tokens=8, seed=i)) for i in range(32)]
        hold.set()
        for waiter in [first] + waiters:
            self.assertTrue(waiter.done.wait(120))
        self.assertLessEqual(batcher.steps, 2 * 7)

    def test_requests_that_trail_each_other_are_gathered_into_one_batch(self):
        # a rollout batch's requests reach the loop one by one; while the next comes within the gap, an idle loop
        # waits for it, so all 8 start together: 7 decode steps for 8 tokens each, not one per request's offset
        batcher = start(self, gather_seconds=5.0, gather_gap_seconds=0.5)
        waiters = []
        for i in range(8):
            waiters.append(submit(batcher, self.model, [1, 2, 3 + i], SamplingParams(max_tokens=8, seed=i)))
            time.sleep(0.01)
        for waiter in waiters:
            self.assertTrue(waiter.done.wait(120))
        self.assertEqual(batcher.steps, 7)

    def test_a_client_sampling_one_at_a_time_does_not_wait_the_gap(self):
        # after a busy period of one request, the idle loop only probes for a second one: a lone request is not held
        # for the gap (0.5 s here), while a batch that follows is still gathered once its second request comes
        batcher = start(self, gather_seconds=5.0, gather_gap_seconds=0.5, gather_probe_seconds=0.001)
        first = submit(batcher, self.model, [1, 2, 3], SamplingParams(max_tokens=2, seed=1))
        self.assertTrue(first.done.wait(60))
        for i in range(3):
            started = time.monotonic()
            lone = submit(batcher, self.model, [1, 2, 4 + i], SamplingParams(max_tokens=2, seed=i))
            self.assertTrue(lone.done.wait(60))
            self.assertLess(time.monotonic() - started, 0.25)
        before = batcher.steps
        waiters = [submit(batcher, self.model, [1, 2, 9 + i], SamplingParams(max_tokens=8, seed=i)) for i in range(8)]
        for waiter in waiters:
            self.assertTrue(waiter.done.wait(120))
        self.assertLessEqual(batcher.steps - before, 2 * 7)

    def test_a_bad_request_fails_alone_and_prompt_logprobs_come_back(self):
        batcher = start(self)

        def bad():
            raise UserError("token id 999 is outside the vocabulary")

        failing = Waiter()
        batcher.submit(SampleRequest(bad, failing.finish))
        good = submit(batcher, self.model, [4, 5, 6], SamplingParams(max_tokens=3, seed=1), prompt_logprobs=True)
        self.assertTrue(failing.done.wait(60) and good.done.wait(60))
        self.assertIsInstance(failing.error, UserError)
        self.assertIsNone(good.error)
        self.assertEqual(len(good.result["prompt_logprobs"]), 3)
        self.assertIsNone(good.result["prompt_logprobs"][0])

    def test_a_next_step_prefills_only_its_new_tokens_and_samples_the_same(self):
        # an agent's turn: prompt, a reply of 4 tokens, then the next prompt = prompt + reply + an observation
        batcher = start(self)
        prompt = [3, 1, 4, 1, 5, 9, 2, 6]
        first = submit(batcher, self.model, prompt, SamplingParams(max_tokens=4, seed=5))
        self.assertTrue(first.done.wait(60))
        reply = first.result["sequences"][0]["tokens"]
        before = batcher.prefilled_tokens
        following = prompt + reply + [7, 7, 8]
        params = SamplingParams(max_tokens=5, temperature=0.8, seed=9)
        second = submit(batcher, self.model, following, params, 2)
        self.assertTrue(second.done.wait(60))
        # the cached row holds the prompt and the reply but its last token (never fed forward): 4 tokens to prefill
        self.assertEqual(batcher.prefilled_tokens - before, 4)
        expected = sample(self.model, following, params, 2)
        self.assertEqual([s["tokens"] for s in second.result["sequences"]], [s.tokens for s in expected])
        for g, e in zip(second.result["sequences"], expected):
            torch.testing.assert_close(torch.tensor(g["logprobs"]), torch.tensor(e.logprobs), rtol=0, atol=1e-5)
        # another model never reads this model's cache
        before = batcher.prefilled_tokens
        other = submit(batcher, self.other, following, params, 1)
        self.assertTrue(other.done.wait(60))
        self.assertEqual(batcher.prefilled_tokens - before, len(following))

    def test_more_samples_than_room_wait_their_turn(self):
        batcher = start(self, max_sequences=4)
        waiters = [submit(batcher, self.model, [7, 8], SamplingParams(max_tokens=4, seed=i), 3) for i in range(5)]
        for i, waiter in enumerate(waiters):
            self.assertTrue(waiter.done.wait(120))
            expected = sample(self.model, [7, 8], SamplingParams(max_tokens=4, seed=i), 3)
            self.assertEqual([s["tokens"] for s in waiter.result["sequences"]], [s.tokens for s in expected])


if __name__ == "__main__":
    unittest.main()
