"""Continuous batching of sample requests: every sequence in flight, from every request, advances by one token in one
forward step of its model, so 64 rollouts waiting on one token each cost about one forward, not 64.

One thread runs the loop. Each turn it
  1. admits the requests that arrived (an idle loop first gathers those that keep coming, a few ms apart at most:
     a rollout batch's requests reach it one by one): prompts of one model are prefilled together (right-padded, at most
     `prefill_tokens` padded tokens per forward), each prompt's KV rows copied once per sample. Identical prompts (a
     rollout group's first step) share one row, and a prompt that extends a finished sequence (an agent's next step:
     its last prompt, the reply, an observation) starts from that sequence's KV rows (PrefixCache) and prefills only
     the new tokens;
  2. picks the next token of every sequence of every model from its last logits (each request's own temperature,
     top-k, top-p, stop tokens; sample i of a request draws from its own generator seeded seed + i);
  3. retires finished sequences (a request answers once all its samples are done) and runs one decode forward for the
     rest: a KV cache with per-row lengths, so sequences of any length share the step.

The picks and logprobs are those of sampler.sample (the unbatched reference): the same generators, the same filter,
the model's own temperature-1 logprobs. Only the floating-point summation order of a batched matmul differs, so a
logprob may differ from the unbatched one in its last bits (trainer/test_batching.py checks both agree).
"""
import os
import queue
import sys
import threading
import time
import traceback
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch
import torch.nn.functional as F

from .model import CausalLM, KVCache
from .sampler import SamplingParams, filter_logits, prompt_logprobs


@dataclass
class SampleRequest:
    """What one asample asks, resolved by `prepare` on the batching thread (it may load a checkpoint, or raise
    UserError); `finish(result, error)` is called once, with the answer or the exception."""
    prepare: Callable[[], "PreparedRequest"]
    finish: Callable[[Optional[dict], Optional[BaseException]], None]


@dataclass
class PreparedRequest:
    model: CausalLM
    prompt: List[int]
    params: SamplingParams
    num_samples: int
    include_prompt_logprobs: bool = False


@dataclass
class _Request:
    source: SampleRequest
    prepared: PreparedRequest
    stop_ids: set
    remaining: int
    tokens: List[List[int]]
    logprobs: List[List[float]]
    prompt_logprobs: Optional[list] = None


@dataclass
class _Row:
    """One sequence in flight: sample `index` of `request`."""
    request: _Request
    index: int
    generator: torch.Generator
    settings: tuple  # (temperature, top_k, top_p): rows that share them are filtered together


@dataclass
class _Batch:
    """The sequences in flight on one model, row for row with its cache and its last logits."""
    model: CausalLM
    rows: List[_Row] = field(default_factory=list)
    cache: Optional[KVCache] = None
    logits: Optional[torch.Tensor] = None  # (rows, V): the next-token logits of every row
    chosen: Optional[torch.Tensor] = None  # (rows,): the tokens just picked, the next decode's input


class PrefixCache:
    """KV rows of finished sequences of one model, by their tokens, least recently used first out past `budget_bytes`.
    An agent's next step is its last prompt, the sampled reply and an observation: its prefill then starts from the
    cached row and runs only over the new tokens."""

    def __init__(self, budget_bytes: int):
        self.budget_bytes = budget_bytes
        self.entries: "OrderedDict[tuple, tuple]" = OrderedDict()  # tokens -> (keys per layer, values per layer)
        self.lengths: Dict[int, int] = {}  # entries per token count, for lookups by prefix length
        self.bytes = 0

    @staticmethod
    def _size(keys, values) -> int:
        return sum(t.numel() * t.element_size() for t in keys + values)

    def put(self, tokens: tuple, keys, values):
        if not tokens or tokens in self.entries:
            return
        size = self._size(keys, values)
        if size > self.budget_bytes:
            return
        self.entries[tokens] = (keys, values)
        self.lengths[len(tokens)] = self.lengths.get(len(tokens), 0) + 1
        self.bytes += size
        while self.bytes > self.budget_bytes:
            old, (k, v) = self.entries.popitem(last=False)
            self.bytes -= self._size(k, v)
            self.lengths[len(old)] -= 1
            if self.lengths[len(old)] == 0:
                del self.lengths[len(old)]

    def longest_prefix(self, prompt: List[int]):
        """The cached entry that is the longest proper prefix of `prompt` (at least one token is left to prefill)."""
        for length in sorted((n for n in self.lengths if n < len(prompt)), reverse=True):
            key = tuple(prompt[:length])
            hit = self.entries.get(key)
            if hit is not None:
                self.entries.move_to_end(key)
                return length, hit
        return 0, None


class ContinuousBatcher(threading.Thread):
    def __init__(self, max_sequences: int = 256, prefill_tokens: int = 8192, threads: int = 0, prefix_cache_bytes: int = 256 << 20,
                 gather_seconds: float = 0.05, gather_gap_seconds: float = 0.005, gather_probe_seconds: float = 0.001):
        super().__init__(name="sampler-batcher", daemon=True)
        self.incoming: "queue.Queue[SampleRequest]" = queue.Queue()
        self.max_sequences = max_sequences
        self.prefill_tokens = prefill_tokens
        # an idle loop waits for more requests while the next comes within gather_gap_seconds, at most gather_seconds
        self.gather_seconds = gather_seconds
        self.gather_gap_seconds = gather_gap_seconds
        # after a busy period that served one request alone (a client sampling one at a time), the first wait is only
        # this long: a lone request should not pay the gap, and a batch's second request comes well within it
        self.gather_probe_seconds = gather_probe_seconds
        self.period_requests = 0  # requests admitted since the loop was last idle
        self.last_period_shared = True  # whether the last busy period served more than one request
        self.threads = threads
        self.batches: Dict[int, _Batch] = {}  # by id(model)
        self.waiting: List[SampleRequest] = []
        self.steps = 0  # decode forwards run (a figure for tests and the bench)
        self.prefilled_tokens = 0  # prompt tokens run through a forward (the rest came from the prefix cache)
        self.prefix_cache_bytes = prefix_cache_bytes
        # per model object (a new checkpoint is a new object; a dropped one takes its cache with it)
        self.prefixes: "weakref.WeakKeyDictionary[CausalLM, PrefixCache]" = weakref.WeakKeyDictionary()
        self.closing = False
        self.start()

    def submit(self, request: SampleRequest) -> None:
        self.incoming.put(request)

    def close(self, timeout: float = 10.0) -> None:
        """Stops the loop once the requests already in flight are answered."""
        self.incoming.put(None)
        self.join(timeout)

    # ----- the loop -----------------------------------------------------------------------------------------------------

    def run(self):
        if self.threads > 0:
            torch.set_num_threads(self.threads)  # OpenMP's thread count is per calling thread
        while not self.closing or self.batches or self.waiting:
            try:
                self._turn()
            except Exception:  # noqa: BLE001 - a bug here must fail the requests in flight, not hang every client
                traceback.print_exc(file=sys.stderr)
                error = RuntimeError("the sampler failed; see the trainer's log")
                for batch in self.batches.values():
                    for request in {id(r.request): r.request for r in batch.rows}.values():
                        request.source.finish(None, error)
                self.batches.clear()

    def _in_flight(self) -> int:
        return sum(len(b.rows) for b in self.batches.values())

    @torch.no_grad()
    def _turn(self):
        arrived = []
        if not self.batches and not self.waiting:
            if self.period_requests:
                self.last_period_shared = self.period_requests > 1
                self.period_requests = 0
            arrived.append(self.incoming.get())  # idle: block until a request comes
            # requests sent together (a rollout batch's) come one by one, as the HTTP threads read them: gather them
            # while they keep coming, so that they share one prefill and every decode step. Started on the first,
            # they would trail it by a step or more each, and a step of a few rows costs nearly what one of 64 does.
            deadline = time.monotonic() + self.gather_seconds
            gap = self.gather_gap_seconds if self.last_period_shared else self.gather_probe_seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    arrived.append(self.incoming.get(timeout=min(left, gap)))
                except queue.Empty:
                    break
                gap = self.gather_gap_seconds
        while True:
            try:
                arrived.append(self.incoming.get_nowait())
            except queue.Empty:
                break
        self.closing = self.closing or None in arrived
        self.waiting += [request for request in arrived if request is not None]
        self.period_requests += sum(request is not None for request in arrived)
        self._admit()
        for key in list(self.batches):
            batch = self.batches[key]
            self._pick_and_retire(batch)
            if batch.rows:
                self._decode(batch)
            else:
                del self.batches[key]

    def _admit(self):
        admitted: Dict[int, List[_Request]] = {}
        room = self.max_sequences - self._in_flight()
        still_waiting = []
        for source in self.waiting:
            try:
                prepared = source.prepare()
            except BaseException as error:  # noqa: BLE001 - a bad request fails alone
                source.finish(None, error)
                continue
            # a request larger than the whole budget still runs, alone
            if prepared.num_samples > room and (self._in_flight() > 0 or admitted):
                still_waiting.append(_PreparedSource(source, prepared))
                continue
            room -= prepared.num_samples
            request = _Request(source, prepared, set(prepared.params.stop_token_ids), prepared.num_samples,
                               [[] for _ in range(prepared.num_samples)], [[] for _ in range(prepared.num_samples)])
            if prepared.include_prompt_logprobs:
                request.prompt_logprobs = prompt_logprobs(prepared.model, prepared.prompt)
            admitted.setdefault(id(prepared.model), []).append(request)
        self.waiting = still_waiting
        for requests in admitted.values():
            self._prefill(requests)

    def _prefill(self, requests: List[_Request]):
        model = requests[0].prepared.model
        batch = self.batches.setdefault(id(model), _Batch(model))
        device = model.lm_head.weight.device
        dtype = model.lm_head.weight.dtype
        # requests with the same prompt (a rollout group's first step) share one prefilled row
        by_prompt: Dict[tuple, List[_Request]] = {}
        for request in requests:
            by_prompt.setdefault(tuple(request.prepared.prompt), []).append(request)
        # shortest first, so each padded chunk holds prompts of similar length
        prompts = sorted(by_prompt, key=len)
        chunks, current = [], []
        for prompt in prompts:
            if current and (len(current) + 1) * len(prompt) > self.prefill_tokens:
                chunks.append(current)
                current = []
            current.append(prompt)
        chunks.append(current)
        prefixes = self.prefixes.setdefault(model, PrefixCache(self.prefix_cache_bytes))
        for chunk in chunks:
            hits = [prefixes.longest_prefix(list(p)) if self.prefix_cache_bytes > 0 else (0, None) for p in chunk]
            cached = torch.tensor([n for n, _ in hits], dtype=torch.long, device=device)
            suffixes = [p[n:] for p, (n, _) in zip(chunk, hits)]
            suffix_lengths = torch.tensor([len(x) for x in suffixes], dtype=torch.long, device=device)
            longest_suffix = int(suffix_lengths.max())
            sharing = [by_prompt[p] for p in chunk]
            capacity = max([len(r.prepared.prompt) + r.prepared.params.max_tokens for group in sharing for r in group]
                           + [int((cached + longest_suffix).max())])
            cache = KVCache(model.config, len(chunk), capacity, dtype=dtype, device=device)
            for row, (n, hit) in enumerate(hits):
                if hit is not None:
                    for layer, (k, v) in enumerate(zip(*hit)):
                        cache.keys[layer][row, :, :n] = k
                        cache.values[layer][row, :, :n] = v
            cache.lengths = cached.clone()
            tokens = torch.zeros((len(chunk), longest_suffix), dtype=torch.long, device=device)  # right-padded
            for row, suffix in enumerate(suffixes):
                tokens[row, : len(suffix)] = torch.tensor(suffix, dtype=torch.long)
            logits = model(tokens, cache, advance=suffix_lengths, only=suffix_lengths - 1)  # (R, V)
            self.prefilled_tokens += int(suffix_lengths.sum())
            # one row per sample: prompt row r once for every sample of every request that shares it
            copies = torch.tensor([sum(r.prepared.num_samples for r in group) for group in sharing], device=device)
            cache = _repeat_rows(cache, copies)
            logits = logits.repeat_interleave(copies, dim=0)
            rows = []
            for group in sharing:
                for request in group:
                    seed = request.prepared.params.seed
                    if seed is None:
                        seed = int.from_bytes(os.urandom(4), "little")
                    params = request.prepared.params
                    settings = (params.temperature, params.top_k, params.top_p)
                    rows += [_Row(request, i, torch.Generator(device="cpu").manual_seed(seed + i), settings)
                             for i in range(request.prepared.num_samples)]
            batch.rows += rows
            batch.cache = cache if batch.cache is None else KVCache.concat([batch.cache, cache])
            batch.logits = logits if batch.logits is None else torch.cat([batch.logits, logits])

    def _pick_and_retire(self, batch: _Batch):
        logits = batch.logits
        chosen = self._choose(batch.rows, logits.cpu())  # (rows,)
        model_logprobs = F.log_softmax(logits.float(), dim=-1).gather(-1, chosen.to(logits.device)[:, None])[:, 0].cpu()
        keep, finished = [], []
        # plain Python numbers, read once: indexing a tensor per row costs more than the whole step's sampling
        for row_index, (row, token, logprob) in enumerate(zip(batch.rows, chosen.tolist(), model_logprobs.tolist())):
            request = row.request
            request.tokens[row.index].append(token)
            request.logprobs[row.index].append(logprob)
            if token in request.stop_ids or len(request.tokens[row.index]) >= request.prepared.params.max_tokens:
                finished.append(row_index)
                request.remaining -= 1
                if request.remaining == 0:
                    self._answer(request)
            else:
                keep.append(row_index)
        if finished and self.prefix_cache_bytes > 0:
            self._remember(batch, finished)
        if len(keep) == len(batch.rows):
            batch.chosen = chosen
            return
        rows = torch.tensor(keep, dtype=torch.long)
        batch.rows = [batch.rows[i] for i in keep]
        batch.chosen = chosen.index_select(0, rows)
        if batch.rows:
            batch.cache = batch.cache.select(rows.to(batch.cache.lengths.device))

    def _remember(self, batch: _Batch, finished: List[int]):
        """Keeps the KV rows of finished sequences: prompt and reply, except the last token (never fed forward)."""
        prefixes = self.prefixes.setdefault(batch.model, PrefixCache(self.prefix_cache_bytes))
        for row_index in finished:
            row = batch.rows[row_index]
            tokens = tuple(row.request.prepared.prompt + row.request.tokens[row.index][:-1])
            n = int(batch.cache.lengths[row_index])
            assert n == len(tokens), f"cache row holds {n} positions, the sequence has {len(tokens)} tokens"
            prefixes.put(tokens, [k[row_index, :, :n].clone() for k in batch.cache.keys],
                         [v[row_index, :, :n].clone() for v in batch.cache.values])

    def _decode(self, batch: _Batch):
        device = batch.model.lm_head.weight.device
        batch.logits = batch.model(batch.chosen.to(device)[:, None], batch.cache)[:, -1]  # (rows, V)
        self.steps += 1

    @staticmethod
    def _choose(rows: List[_Row], logits) -> torch.Tensor:
        """logits (rows, V) on the CPU -> token ids (rows,); rows with the same settings are filtered together.

        A draw is torch.multinomial's for one sample, done for all rows at once: multinomial(p, 1, generator=g) is
        argmax(p / q) with q ~ Exp(1) filled from g (ATen's fast path for one sample), so filling row i's q from row
        i's generator and taking one argmax gives the tokens and generator states of a multinomial per row (the
        unbatched sampler's), at one small call per row instead of seven."""
        chosen = torch.empty(len(rows), dtype=torch.long)
        groups: Dict[tuple, List[int]] = {}
        for i, row in enumerate(rows):
            groups.setdefault(row.settings, []).append(i)
        for (temperature, top_k, top_p), members in groups.items():
            index = torch.tensor(members, dtype=torch.long)
            group = logits if len(members) == len(rows) else logits.index_select(0, index)
            if temperature == 0:
                chosen[index] = group.argmax(dim=-1)
                continue
            probs = F.softmax(filter_logits(group / temperature, top_k, top_p), dim=-1)
            noise = torch.empty_like(probs)
            for j, i in enumerate(members):
                noise[j].exponential_(generator=rows[i].generator)
            chosen[index] = (probs / noise).argmax(dim=-1)
        return chosen

    @staticmethod
    def _answer(request: _Request):
        stops = request.stop_ids
        sequences = [{"tokens": tokens, "logprobs": logprobs, "stop_reason": "stop" if tokens and tokens[-1] in stops else "length"}
                     for tokens, logprobs in zip(request.tokens, request.logprobs)]
        request.source.finish({"sequences": sequences, "prompt_logprobs": request.prompt_logprobs, "topk_prompt_logprobs": None}, None)


class _PreparedSource(SampleRequest):
    """A request already prepared that waits for room: admitting it again must not prepare it twice."""

    def __init__(self, source: SampleRequest, prepared: PreparedRequest):
        super().__init__(lambda: prepared, source.finish)


def _repeat_rows(cache: KVCache, copies) -> KVCache:
    """Row r of `cache` repeated copies[r] times (one prefilled prompt, its samples)."""
    return cache.select(torch.repeat_interleave(torch.arange(cache.batch_size, device=copies.device), copies))
