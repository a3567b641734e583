"""Drives the local trainer with Tinker's own Python SDK, unchanged, through its public API, as a user would, and exits
non-zero on any mismatch. Not part of CI: the SDK and its dependencies are not installable there (docs/training.md,
"Checking with the real SDK", says how to make them importable and what this checked last).

  PYTHONPATH=<SDK and its dependencies> python3 scripts/tinker-sdk-check.py --base-model .evolver/models/tiny
  PYTHONPATH=... python3 scripts/tinker-sdk-check.py --base-url http://127.0.0.1:8000   (a trainer already running)

With --base-model it starts `trainer/server.py` itself (on --trainer-python, default /usr/bin/python3, which has torch)
and stops it at the end. Each check prints one line, `ok` or `FAIL`, then a summary line; the exit code is 1 when any
check failed, 2 when the SDK cannot be imported or the trainer cannot be reached.
"""
import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import time
import traceback
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import numpy as np
    import tinker
    from tinker import types
except ImportError as error:
    print(f"cannot import the Tinker SDK: {error}. Put the SDK's src/ and its dependencies on PYTHONPATH "
          "(docs/training.md, 'Checking with the real SDK').", file=sys.stderr)
    sys.exit(2)

# a short made-up sequence: the checks compare the SDK's numbers with each other and with JSON, not with a language
TOKENS = [5, 17, 42, 9, 33, 12, 7]
WEIGHTS = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]  # the first two targets are "prompt": no loss on them
ADAM = types.AdamParams(learning_rate=1e-2)
# float32 logprobs computed by two different code paths (a forward of a batch against a sampler's decode steps) agree
# to about 1e-6 on this machine; 1e-4 leaves room for other CPUs without hiding a wrong token or a shifted position
CLOSE = 1e-4


class Skip(Exception):
    """A check that cannot run with what is importable here; reported as skipped, never as passed."""


class Check:
    def __init__(self):
        self.failed = []
        self.passed = 0
        self.skipped = 0

    def run(self, name, fn):
        try:
            detail = fn()
        except Skip as reason:
            self.skipped += 1
            print(f"skip {name}: {reason}")
            return
        except Exception as error:  # noqa: BLE001 - every failure is reported by name, then the next check runs
            self.failed.append(name)
            print(f"FAIL {name}: {type(error).__name__}: {error}")
            if os.environ.get("TINKER_SDK_CHECK_TRACE"):
                traceback.print_exc()
            return
        self.passed += 1
        print(f"ok   {name}" + (f": {detail}" if detail else ""))


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def max_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    expect(a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def ce_datum(tokens=TOKENS, weights=WEIGHTS):
    return types.Datum(model_input=types.ModelInput.from_ints(tokens[:-1]),
                       loss_fn_inputs={"target_tokens": tokens[1:], "weights": weights})


def logprobs(output, index=0):
    return output.loss_fn_outputs[index]["logprobs"].to_numpy()


def json_call(base_url, path, body):
    """One call the way a plain JSON client makes it (no protobuf either way): the comparison for the SDK's bytes."""
    def post(path, body):
        request = urllib.request.Request(f"{base_url}/api/v1/{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    answer = post(path, body)
    while answer.get("status") == "pending" or answer.get("type") == "try_again":
        answer = post("retrieve_future", {"request_id": answer["request_id"]})
    return answer


def start_trainer(python, base_model):
    command = [python, "-m", "trainer.server", "--base-model", os.path.abspath(base_model), "--port", "0", "--threads", "1",
               "--exit-with-stdin"]
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    try:
        listening = json.loads(line)
    except json.JSONDecodeError:
        process.kill()
        print(f"the trainer did not start ({' '.join(command)}): {line.strip() or 'no output'}", file=sys.stderr)
        sys.exit(2)
    return process, f"http://{listening['host']}:{listening['port']}"


def stop_trainer(process):
    process.stdin.close()  # --exit-with-stdin: the trainer's own signal to stop
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def checks(base_url, api_key):
    check = Check()
    service = tinker.ServiceClient(base_url=base_url, api_key=api_key)
    state = {}

    def capabilities():
        models = [m.model_name for m in service.get_server_capabilities().supported_models]
        expect(models, "get_server_capabilities lists no model")
        state["base_model"] = models[0]
        return f"models {models}"

    check.run("get_server_capabilities", capabilities)
    if "base_model" not in state:
        return check
    base_model = state["base_model"]

    def create_lora():
        state["lora"] = service.create_lora_training_client(base_model=base_model, rank=4, seed=0)
        info = state["lora"].get_info()
        expect(info.is_lora and info.lora_rank == 4, f"get_info says is_lora={info.is_lora}, lora_rank={info.lora_rank}")
        return f"{info.model_id}, rank {info.lora_rank}"

    check.run("create_lora_training_client + get_info", create_lora)
    if "lora" not in state:
        return check
    lora = state["lora"]

    def forward():
        out = lora.forward([ce_datum()], "cross_entropy").result()
        lp = logprobs(out)
        expect(lp.shape == (len(TOKENS) - 1,), f"{lp.shape[0]} logprobs for {len(TOKENS) - 1} targets")
        expected_loss = -float(np.dot(lp, WEIGHTS))
        expect(abs(out.metrics["loss:sum"] - expected_loss) < CLOSE, f"loss:sum {out.metrics['loss:sum']} is not -sum(w*logprob) = {expected_loss}")
        state["before"] = lp
        return f"loss:sum {out.metrics['loss:sum']:.4f} = -sum(weights * logprobs)"

    check.run("forward cross_entropy (protobuf request and result)", forward)

    def forward_equals_json():
        datum = {"model_input": {"chunks": [{"type": "encoded_text", "tokens": TOKENS[:-1]}]},
                 "loss_fn_inputs": {"target_tokens": {"data": TOKENS[1:], "dtype": "int64"}, "weights": {"data": WEIGHTS, "dtype": "float32"}}}
        answer = json_call(base_url, "forward", {"model_id": lora.model_id, "forward_input": {"data": [datum], "loss_fn": "cross_entropy"}})
        from_json = np.asarray(answer["loss_fn_outputs"][0]["logprobs"]["data"], dtype=np.float32)
        expect(np.array_equal(from_json, state["before"]), f"SDK {state['before'].tolist()} vs JSON {from_json.tolist()}")
        return "bit-equal logprobs"

    check.run("forward through the SDK equals the same forward as plain JSON", forward_equals_json)

    def forward_backward_and_step():
        out = lora.forward_backward([ce_datum()], "cross_entropy").result()
        expect(max_diff(logprobs(out), state["before"]) == 0, "forward_backward's logprobs differ from forward's on the same weights")
        step = lora.optim_step(ADAM).result()
        expect(step.metrics and step.metrics.get("learning_rate:mean") == ADAM.learning_rate, f"optim_step metrics {step.metrics}")
        after = logprobs(lora.forward([ce_datum()], "cross_entropy").result())
        loss_before, loss_after = -float(np.dot(state["before"], WEIGHTS)), -float(np.dot(after, WEIGHTS))
        expect(loss_after < loss_before, f"the loss did not fall: {loss_before} -> {loss_after}")
        state["after"] = after
        return f"loss {loss_before:.4f} -> {loss_after:.4f} after one step (lr {ADAM.learning_rate})"

    check.run("forward_backward cross_entropy + optim_step", forward_backward_and_step)

    def sample_and_importance_sampling():
        sampler = lora.create_sampling_client(lora.save_weights_for_sampler("sdk-check").result().path)
        state["sampler"] = sampler
        prompt = types.ModelInput.from_ints(TOKENS[:3])
        params = types.SamplingParams(max_tokens=4, seed=1)
        response = sampler.sample(prompt, 2, params, include_prompt_logprobs=True).result()
        again = sampler.sample(prompt, 2, params).result()
        expect([s.tokens for s in response.sequences] == [s.tokens for s in again.sequences], "the same seed sampled different tokens")
        expect(response.prompt_logprobs[0] is None, f"the first prompt logprob is {response.prompt_logprobs[0]}, not None")
        expect(max_diff(response.prompt_logprobs[1:], state["after"][:2]) < CLOSE, "prompt logprobs differ from forward's")
        seq = response.sequences[0]
        expect(len(seq.tokens) == 4 and len(seq.logprobs) == 4 and seq.stop_reason == "length", f"sequence {seq}")
        # the sampler's logprobs are the model's at temperature 1: a forward of the same tokens gives them back, so an
        # on-policy importance ratio is 1 and the importance_sampling loss with advantage 1 is -(number of tokens)
        full = TOKENS[:3] + seq.tokens
        datum = types.Datum(model_input=types.ModelInput.from_ints(full[:-1]),
                            loss_fn_inputs={"target_tokens": full[1:], "logprobs": [0.0, 0.0] + seq.logprobs,
                                            "advantages": [0.0, 0.0] + [1.0] * 4})
        out = lora.forward([datum], "importance_sampling").result()
        expect(max_diff(logprobs(out)[2:], seq.logprobs) < CLOSE, "sampled logprobs differ from forward's")
        expect(abs(out.metrics["loss:sum"] + 4) < 1e-3, f"on-policy importance_sampling loss {out.metrics['loss:sum']}, expected -4")
        lora.forward_backward([datum], "importance_sampling").result()
        ppo = lora.forward_backward([datum], "ppo", {"clip_low_threshold": 0.8, "clip_high_threshold": 1.2}).result()
        expect(math.isfinite(ppo.metrics["loss:sum"]), f"ppo loss {ppo.metrics}")
        lora.optim_step(ADAM).result()
        return f"tokens {[s.tokens for s in response.sequences]}, importance_sampling loss {out.metrics['loss:sum']:.5f}"

    check.run("save_weights_for_sampler + sample (logprobs, prompt logprobs) + importance_sampling + ppo", sample_and_importance_sampling)

    def compute_logprobs_and_base_sampler():
        prompt_lp = state["sampler"].compute_logprobs(types.ModelInput.from_ints(TOKENS)).result()
        expect(prompt_lp[0] is None and len(prompt_lp) == len(TOKENS), f"compute_logprobs gave {prompt_lp}")
        base = service.create_sampling_client(base_model=base_model)
        seqs = base.sample(types.ModelInput.from_ints(TOKENS[:3]), 3, types.SamplingParams(max_tokens=3, seed=5, temperature=0.0)).result().sequences
        expect(all(s.tokens == seqs[0].tokens for s in seqs), "greedy samples differ")
        expect(base.get_base_model() == base_model, f"get_base_model says {base.get_base_model()}")
        return f"greedy from the base model {seqs[0].tokens}"

    check.run("compute_logprobs + base-model sampling client", compute_logprobs_and_base_sampler)

    def save_and_load_state():
        saved = lora.save_state("sdk-check-state").result().path
        at_save = logprobs(lora.forward([ce_datum()], "cross_entropy").result())
        lora.forward_backward([ce_datum()], "cross_entropy").result()
        lora.optim_step(ADAM).result()
        moved = logprobs(lora.forward([ce_datum()], "cross_entropy").result())
        expect(max_diff(moved, at_save) > 0, "a step did not change the weights")
        lora.load_state(saved).result()
        expect(max_diff(logprobs(lora.forward([ce_datum()], "cross_entropy").result()), at_save) == 0, "load_state did not restore the weights")
        lora.load_state_with_optimizer(saved).result()
        restored = service.create_training_client_from_state_with_optimizer(saved)
        expect(max_diff(logprobs(restored.forward([ce_datum()], "cross_entropy").result()), at_save) == 0,
               "create_training_client_from_state_with_optimizer has other weights")
        info = service.create_rest_client().get_weights_info_by_tinker_path(saved).result()
        expect(info.is_lora and info.lora_rank == 4 and info.base_model == base_model, f"weights info {info}")
        return saved

    check.run("save_state / load_state / load_state_with_optimizer / create_training_client_from_state", save_and_load_state)

    def full_fine_tuning():
        full = service.create_lora_training_client(base_model=base_model, rank=0)
        info = full.get_info()
        expect(not info.is_lora, f"rank 0 made is_lora={info.is_lora}")
        before = logprobs(full.forward([ce_datum()], "cross_entropy").result())
        full.forward_backward([ce_datum()], "cross_entropy").result()
        full.optim_step(types.AdamParams(learning_rate=1e-3)).result()
        after = logprobs(full.forward([ce_datum()], "cross_entropy").result())
        expect(-np.dot(after, WEIGHTS) < -np.dot(before, WEIGHTS), "full fine-tuning's loss did not fall")
        return f"loss {-np.dot(before, WEIGHTS):.4f} -> {-np.dot(after, WEIGHTS):.4f}"

    check.run("full fine-tuning (create_lora_training_client rank=0)", full_fine_tuning)

    def pipelined_steps():
        # the cookbook's pattern: forward_backward and optim_step submitted back to back, results read later; the
        # trainer must run them in the SDK's seq_id order, as if each had been waited for
        waited = service.create_lora_training_client(base_model=base_model, rank=4, seed=1)
        piped = service.create_lora_training_client(base_model=base_model, rank=4, seed=1)
        for _ in range(3):
            waited.forward_backward([ce_datum()], "cross_entropy").result()
            waited.optim_step(ADAM).result()
        futures = [f for _ in range(3) for f in (piped.forward_backward([ce_datum()], "cross_entropy"), piped.optim_step(ADAM))]
        losses = [f.result().metrics.get("loss:sum") for f in futures[::2]]
        expect(losses[0] > losses[1] > losses[2], f"the pipelined steps' losses did not fall in order: {losses}")
        diff = max_diff(logprobs(piped.forward([ce_datum()], "cross_entropy").result()), logprobs(waited.forward([ce_datum()], "cross_entropy").result()))
        expect(diff == 0, f"pipelined steps end {diff} away from the same steps waited for one by one")
        return f"losses {[round(x, 4) for x in losses]}, same weights as waiting for each"

    check.run("forward_backward + optim_step submitted without waiting (3 steps)", pipelined_steps)

    def async_variants():
        sync_lp = logprobs(lora.forward([ce_datum()], "cross_entropy").result())
        sync_sample = state["sampler"].sample(types.ModelInput.from_ints(TOKENS[:3]), 1, types.SamplingParams(max_tokens=3, seed=9)).result()

        async def run():
            capabilities = await service.get_server_capabilities_async()
            out = await (await lora.forward_async([ce_datum()], "cross_entropy"))
            sampled = await state["sampler"].sample_async(types.ModelInput.from_ints(TOKENS[:3]), 1, types.SamplingParams(max_tokens=3, seed=9))
            return capabilities, out, sampled

        capabilities, out, sampled = asyncio.run(run())
        expect(capabilities.supported_models[0].model_name == base_model, "async capabilities differ")
        expect(max_diff(logprobs(out), sync_lp) == 0, "forward_async differs from forward")
        expect(sampled.sequences[0].tokens == sync_sample.sequences[0].tokens, "sample_async differs from sample")
        return None

    check.run("async variants (get_server_capabilities, forward, sample)", async_variants)

    def chunked_request():
        # more datums than client/config's fwdbwd_max_chunk_len (1024): the SDK splits the call and joins the results
        rng = np.random.default_rng(0)
        seqs = [rng.integers(1, 100, size=5).tolist() for _ in range(1100)]
        data = [types.Datum(model_input=types.ModelInput.from_ints(s[:-1]), loss_fn_inputs={"target_tokens": s[1:]}) for s in seqs]
        whole = lora.forward(data, "cross_entropy").result()
        head, tail = lora.forward(data[:600], "cross_entropy").result(), lora.forward(data[600:], "cross_entropy").result()
        parts = head.loss_fn_outputs + tail.loss_fn_outputs
        expect(len(whole.loss_fn_outputs) == 1100, f"{len(whole.loss_fn_outputs)} outputs for 1100 datums")
        expect(all(np.array_equal(a["logprobs"].to_numpy(), b["logprobs"].to_numpy()) for a, b in zip(whole.loss_fn_outputs, parts)),
               "outputs of the split call differ from the same datums sent in two calls")
        return f"loss:sum {whole.metrics['loss:sum']:.2f}"

    check.run("1100 datums in one forward (the SDK's chunking)", chunked_request)

    def concurrent_samples():
        sampler, prompt = state["sampler"], types.ModelInput.from_ints(TOKENS[:3])
        futures = [sampler.sample(prompt, 1, types.SamplingParams(max_tokens=6, seed=s)) for s in range(32)]
        together = [f.result().sequences[0] for f in futures]
        alone = [sampler.sample(prompt, 1, types.SamplingParams(max_tokens=6, seed=s)).result().sequences[0] for s in range(4)]
        expect(all(a.tokens == b.tokens for a, b in zip(together, alone)), "concurrent samples differ from the same samples one at a time")
        return f"32 in flight, logprobs within {max(max_diff(a.logprobs, b.logprobs) for a, b in zip(together, alone)):.1e} of one at a time"

    check.run("32 concurrent samples", concurrent_samples)

    def custom_loss():
        try:
            import torch
        except ImportError:
            raise Skip("torch is not importable here (forward_backward_custom needs it)") from None
        # a custom loss equal to cross_entropy, -sum(w * logprob): its update must equal the built-in loss's
        one = service.create_lora_training_client(base_model=base_model, rank=4, seed=0)
        two = service.create_lora_training_client(base_model=base_model, rank=4, seed=0)

        def ce(data, lps):
            loss = sum(-(torch.tensor(d.loss_fn_inputs["weights"].to_numpy()) * lp).sum() for d, lp in zip(data, lps))
            return loss, {}

        one.forward_backward_custom([ce_datum()], ce).result()
        one.optim_step(ADAM).result()
        two.forward_backward([ce_datum()], "cross_entropy").result()
        two.optim_step(ADAM).result()
        diff = max_diff(logprobs(one.forward([ce_datum()], "cross_entropy").result()), logprobs(two.forward([ce_datum()], "cross_entropy").result()))
        expect(diff < 1e-5, f"custom and built-in cross_entropy updates differ by {diff}")
        return f"same update as cross_entropy (max logprob difference {diff:.1e})"

    check.run("forward_backward_custom", custom_loss)

    def bad_request_is_a_clear_error():
        bad = types.Datum(model_input=types.ModelInput.from_ints([1, 2]), loss_fn_inputs={"target_tokens": [2, 10 ** 6]})
        try:
            lora.forward([bad], "cross_entropy").result()
        except tinker.UnprocessableEntityError as error:
            expect("vocabulary" in str(error), f"the error does not name the problem: {error}")
            return str(error)
        raise AssertionError("a token outside the vocabulary was accepted")

    check.run("a bad request raises the SDK's 422 error naming the problem", bad_request_is_a_clear_error)
    return check


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--base-url", help="a local trainer already running, e.g. http://127.0.0.1:8000")
    where.add_argument("--base-model", help="start the local trainer on this model folder for the check")
    parser.add_argument("--trainer-python", default="/usr/bin/python3", help="the Python with torch that runs the trainer")
    parser.add_argument("--api-key", default="tml-local-check", help="the SDK wants a key; the local trainer ignores it")
    args = parser.parse_args()

    print(f"Tinker SDK {tinker.__version__} from {os.path.dirname(tinker.__file__)}")
    process, base_url = start_trainer(args.trainer_python, args.base_model) if args.base_model else (None, args.base_url.rstrip("/"))
    started = time.perf_counter()
    try:
        check = checks(base_url, args.api_key)
    finally:
        if process:
            stop_trainer(process)
    total = check.passed + len(check.failed)
    print(f"{check.passed} passed, {len(check.failed)} failed, {check.skipped} skipped ({time.perf_counter() - started:.1f} s, trainer {base_url})")
    # the SDK's background event-loop thread and heartbeat would keep a normal exit waiting
    os._exit(1 if check.failed or total == 0 else 0)


if __name__ == "__main__":
    main()
