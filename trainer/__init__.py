"""Evolver's local trainer: a Qwen2/Llama decoder in plain torch, LoRA, the RL losses, a KV-cache sampler and a
server speaking the Tinker training protocol (see shared/specs/tinker-api.md). Depends only on torch and numpy.

Files, smallest first: model.py (the decoder), checkpoint_io.py (HF safetensors in and out), lora.py (adapters),
loss.py (per-token losses), sampler.py (generation), train_step.py (forward-backward, AdamW), server.py (HTTP).
"""
