"""Forward over a micro-batch of datums, each shared prompt run once and each repeated sequence once.

An RL update's datums come in groups: GRPO samples several completions of one prompt, so the members of a group agree
on every token before their first trained one, and a policy that has learnt samples the same completion again and
again. Under the causal mask a position's keys and values depend only on the tokens up to it, so a prompt's keys and
values are the same for every member. The prompt is run once (pass 1, one row per distinct prompt), and each distinct
rest of a sequence (its suffix, from its first trained position on) is run once (pass 2) with the prompt's keys and
values in front of its own; autograd sums the gradient through them over every row that used them. The vocabulary's
logsumexp is taken once per distinct suffix position, not at every position of every datum. On the quick start
(64-token prompts, 63-token suffixes, 4 datums per prompt in each of its two mini-batches) forward-backward costs
about half the CPU time of running every datum whole (1.9x on its first update's 192 datums, 0.33 against 0.63 s:
`python3 -m trainer.bench_update --prompts 24`, 2026-12-03).

Exact up to float rounding. A position before a datum's first trained token has weight 0 in every loss, so its
logprobs come from pass 1 without a gradient: they are outputs only.
"""
from dataclasses import dataclass
from typing import List, Sequence

import torch

from .model import CausalLM


@dataclass
class Plan:
    """Which rows of pass 1 and pass 2 make up each datum of the micro-batch."""
    prompts: List[List[int]]  # distinct prompts (pass 1)
    suffixes: List[List[int]]  # distinct (prompt, suffix) pairs' suffix tokens (pass 2)
    suffix_prompt: List[int]  # per suffix row: its prompt row
    datum_suffix: List[int]  # per datum: its suffix row
    starts: List[int]  # per datum: its prompt's length (where its suffix starts)

    @property
    def width(self) -> int:
        """Positions pass 2 spans: the longest prompt plus the longest suffix (padded rows reach that far)."""
        return max(len(p) for p in self.prompts) + max(len(s) for s in self.suffixes)

    @property
    def saves_work(self) -> bool:
        """Whether the two passes run fewer tokens than the datums whole (not when no two datums share a prompt)."""
        shared = sum(len(p) for p in self.prompts) + sum(len(s) for s in self.suffixes)
        whole = sum(start + len(self.suffixes[s]) for start, s in zip(self.starts, self.datum_suffix))
        return shared < whole


def plan(tokens: Sequence[List[int]], first_trained: Sequence[int]) -> Plan:
    """`first_trained[i]`: the first position of datum i with a nonzero weight (or its length when none). A datum's
    prompt is its tokens before that position, kept to at most length - 1 so every suffix has a token."""
    prompts, suffixes, suffix_prompt, datum_suffix, starts = [], [], [], [], []
    prompt_rows, suffix_rows = {}, {}
    for row, first in zip(tokens, first_trained):
        start = min(first, len(row) - 1)
        prompt = tuple(row[:start])
        if prompt not in prompt_rows:
            prompt_rows[prompt] = len(prompts)
            prompts.append(list(prompt))
        key = (prompt_rows[prompt], tuple(row[start:]))
        if key not in suffix_rows:
            suffix_rows[key] = len(suffixes)
            suffixes.append(list(row[start:]))
            suffix_prompt.append(prompt_rows[prompt])
        datum_suffix.append(suffix_rows[key])
        starts.append(start)
    return Plan(prompts, suffixes, suffix_prompt, datum_suffix, starts)


def _right_padded(rows: List[List[int]], device) -> torch.Tensor:
    out = torch.zeros((len(rows), max(max(len(r) for r in rows), 1)), dtype=torch.long, device=device)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out


class _PromptRecorder:
    """Pass 1's stand-in for a KVCache: positions from 0, and every layer's keys and values kept as computed (with
    their autograd history) for pass 2."""

    def __init__(self, rows: int, device):
        self.lengths = torch.zeros(rows, dtype=torch.long, device=device)
        self.keys: List[torch.Tensor] = []
        self.values: List[torch.Tensor] = []

    def begin(self, new_tokens: int):
        return torch.arange(new_tokens, device=self.lengths.device).expand(self.lengths.shape[0], new_tokens)  # (P, T)

    def store(self, layer: int, k, v, positions):
        self.keys.append(k)
        self.values.append(v)
        return k, v

    def advance(self, counts):
        pass


class _SuffixCache:
    """Pass 2's stand-in for a KVCache: row r's prompt keys and values at positions 0..start-1, its own from start on.
    Built out of place (cat, gather), so autograd differentiates through both."""

    def __init__(self, recorder: _PromptRecorder, prompt_of_row: torch.Tensor, starts: torch.Tensor, prompt_width: int):
        self.recorder = recorder
        self.prompt_of_row = prompt_of_row  # (R,)
        self.lengths = starts  # (R,): positions already filled, as a KVCache's lengths
        self.prompt_width = prompt_width
        self.index = None  # key slot -> position, when the prompts differ in length

    def begin(self, new_tokens: int):
        positions = self.lengths[:, None] + torch.arange(new_tokens, device=self.lengths.device)  # (R, S)
        if bool((self.lengths != self.prompt_width).any()):
            # slot t of row r: the prompt's slot t before its start, else its own key t - start (past the row's last
            # position the slot is clamped: the caller masks it)
            slots = torch.arange(self.prompt_width + new_tokens, device=self.lengths.device)[None, :]  # (1, W)
            starts = self.lengths[:, None]
            self.index = torch.where(slots < starts, slots, self.prompt_width + slots - starts).clamp(max=self.prompt_width + new_tokens - 1)
        return positions

    def store(self, layer: int, k, v, positions):
        def place(prompt, own):
            both = torch.cat((prompt.index_select(0, self.prompt_of_row), own), dim=2)  # (R, nkv, P + S, hd)
            # every prompt as long as the widest: slot index and position already agree
            return both if self.index is None else both.gather(2, self.index[:, None, :, None].expand_as(both))

        return place(self.recorder.keys[layer], k), place(self.recorder.values[layer], v)

    def advance(self, counts):
        pass


def _head(model: CausalLM, hidden):
    """The output head over hidden states, in float32 at least (as CausalLM.forward gives logits)."""
    logits = model.lm_head(hidden)
    return logits.to(torch.promote_types(logits.dtype, torch.float32))


def forward(model: CausalLM, plan: Plan, targets: torch.Tensor, trained: torch.Tensor):
    """The plan's datums through the model, right-padded as `targets` (B, T) is. `trained` (B, T) bool: the positions
    the loss weighs (nonzero weight). Returns the logprob of each target (B, T), as a plain forward over the padded
    batch gives it at every real position (padding positions hold anything), with a gradient at trained positions
    only, and `logits_at(rows, positions)` -> (N, V), the logits at trained positions.

    Only trained positions go through the output head and the vocabulary's logsumexp with a gradient; the rest are
    outputs only and are computed without one. Every other position has weight 0 in every loss, so its gradient is 0,
    and the quick start trains 3 of a datum's 63 suffix positions: the head's backward at the other 60, and the
    (rows, positions, vocabulary) gradient of the logits that autograd built for them, were about 6% of its update."""
    device = targets.device
    B, T = targets.shape
    recorder = _PromptRecorder(len(plan.prompts), device)
    prompt_hidden = model.model(_right_padded(plan.prompts, device), recorder)  # (G, Lp, C)
    Lp = prompt_hidden.shape[1]
    starts = torch.tensor(plan.starts, dtype=torch.long, device=device)  # (B,)
    rows = torch.tensor(plan.datum_suffix, dtype=torch.long, device=device)  # (B,)
    with torch.no_grad():  # the loss weighs no position before a datum's start: these are outputs only
        prompt_logits = _head(model, prompt_hidden)  # (G, Lp, V)
        prompt_of_datum = torch.tensor([plan.suffix_prompt[r] for r in plan.datum_suffix], dtype=torch.long, device=device)
        prompt_logprobs = torch.log_softmax(prompt_logits, dim=-1)[prompt_of_datum[:, None], torch.arange(Lp, device=device)[None, :], targets[:, :Lp]]  # (B, Lp)

    suffix_starts = torch.tensor([len(plan.prompts[p]) for p in plan.suffix_prompt], dtype=torch.long, device=device)
    cache = _SuffixCache(recorder, torch.tensor(plan.suffix_prompt, dtype=torch.long, device=device), suffix_starts, Lp)
    suffix_hidden = model.model(_right_padded(plan.suffixes, device), cache)  # (U, Ls, C)
    Ls = suffix_hidden.shape[1]
    positions = torch.arange(T, device=device)[None, :]
    index = torch.where(positions < starts[:, None], positions, Lp + positions - starts[:, None]).clamp(max=Lp + Ls - 1)  # (B, T)
    with torch.no_grad():  # every position's logprob, as an output
        suffix_logits = _head(model, suffix_hidden)  # (U, Ls, V)
        columns = torch.arange(Ls, device=device)
        own_targets = targets.gather(1, (starts[:, None] + columns).clamp(max=T - 1))  # (B, Ls)
        # a repeated sequence's logits are computed once; its targets (the last may differ) are each datum's own
        own = suffix_logits[rows[:, None], columns[None, :], own_targets] - torch.logsumexp(suffix_logits, dim=-1)[rows]  # (B, Ls)
        logprobs = torch.cat((prompt_logprobs, own), dim=1).gather(1, index)

    # trained positions again, with a gradient: the head over their hidden states only
    at_rows, at_positions = trained.nonzero(as_tuple=True)  # (N,) each, at or after each row's start
    trained_logits = _head(model, suffix_hidden[rows[at_rows], at_positions - starts[at_rows]])  # (N, V)
    trained_logprobs = trained_logits.gather(1, targets[at_rows, at_positions][:, None])[:, 0] - torch.logsumexp(trained_logits, dim=-1)
    logprobs = logprobs.index_put((at_rows, at_positions), trained_logprobs)
    slot = torch.full((B, T), -1, dtype=torch.long, device=device)
    slot[at_rows, at_positions] = torch.arange(len(at_rows), device=device)

    def logits_at(datum_rows, datum_positions):
        slots = slot[datum_rows, datum_positions]
        assert bool((slots >= 0).all()), "logits_at reads trained positions only"
        return trained_logits[slots]

    return logprobs, logits_at
