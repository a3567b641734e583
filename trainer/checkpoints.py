"""Checkpoints on disk, addressed by Tinker paths.

  tinker://<model_id>/weights/<name>          training state: trainable weights + AdamW moments
  tinker://<model_id>/sampler_weights/<name>  weights for sampling only
  tinker://<model_id>/<name>                  SkyRL's short form of a sampler path

Layout: <root>/<model_id>/<kind>/<name>/{meta.json, weights.safetensors, optimizer.safetensors}. A checkpoint is
written into a hidden temporary folder and renamed into place, so a crash leaves either the old one or the new one,
never half of one; and since it lives in files, it survives a restart of the server.
Names and ids are checked against ^[A-Za-z0-9_-]+$ before they touch the file system.
"""
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from typing import Dict, Optional

import torch

from .checkpoint_io import read_safetensors, write_safetensors

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
KINDS = ("weights", "sampler_weights")


class CheckpointError(ValueError):
    pass


class CheckpointExists(CheckpointError):
    pass


@dataclass(frozen=True)
class CheckpointPath:
    model_id: str
    kind: str  # "weights" | "sampler_weights"
    name: str

    def __str__(self) -> str:
        return f"tinker://{self.model_id}/{self.kind}/{self.name}"

    @staticmethod
    def parse(path: str) -> "CheckpointPath":
        if not isinstance(path, str) or not path.startswith("tinker://"):
            raise CheckpointError(f"not a tinker:// path: {path!r}")
        parts = path[len("tinker://") :].split("/")
        if len(parts) == 2:
            parts = [parts[0], "sampler_weights", parts[1]]
        if len(parts) != 3 or parts[1] not in KINDS:
            raise CheckpointError(f"expected tinker://<model_id>/(weights|sampler_weights)/<name>, got {path!r}")
        model_id, kind, name = parts
        check_name(model_id, "model id")
        check_name(name, "checkpoint name")
        return CheckpointPath(model_id, kind, name)


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise CheckpointError(f"{what} {name!r} must match ^[A-Za-z0-9_-]+$ (at most 255 characters)")
    return name


class CheckpointStore:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)

    def folder(self, path: CheckpointPath) -> str:
        return os.path.join(self.root, path.model_id, path.kind, path.name)

    def exists(self, path: CheckpointPath) -> bool:
        return os.path.exists(os.path.join(self.folder(path), "meta.json"))

    def save(self, path: CheckpointPath, meta: dict, files: Dict[str, Dict[str, torch.Tensor]], overwrite: bool) -> int:
        """Writes `files` ({"weights": tensors, ...} -> weights.safetensors) and meta.json; returns the bytes written."""
        final = self.folder(path)
        if os.path.exists(final) and not overwrite:
            raise CheckpointExists(f"checkpoint {path} already exists")
        parent = os.path.dirname(final)
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{path.name}-")
        try:
            for stem, tensors in files.items():
                write_safetensors(os.path.join(staging, f"{stem}.safetensors"), tensors)
            with open(os.path.join(staging, "meta.json"), "w") as f:
                json.dump({**meta, "path": str(path), "uid": uuid.uuid4().hex}, f, indent=2)
            size = sum(os.path.getsize(os.path.join(staging, name)) for name in os.listdir(staging))
            if os.path.exists(final):
                # rename cannot replace a non-empty folder: move the old one aside first, then drop it
                retired = tempfile.mkdtemp(dir=parent, prefix=f".old-{path.name}-")
                os.replace(final, os.path.join(retired, "old"))
                os.replace(staging, final)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.replace(staging, final)
            return size
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def load_meta(self, path: CheckpointPath) -> dict:
        meta_file = os.path.join(self.folder(path), "meta.json")
        if not os.path.exists(meta_file):
            raise FileNotFoundError(f"no checkpoint at {path}")
        with open(meta_file) as f:
            return json.load(f)

    def load_tensors(self, path: CheckpointPath, stem: str) -> Optional[Dict[str, torch.Tensor]]:
        file = os.path.join(self.folder(path), f"{stem}.safetensors")
        if not os.path.exists(file):
            return None
        return read_safetensors(file)[0]

    def version(self, path: CheckpointPath) -> str:
        """Changes whenever the checkpoint is rewritten (sampler caches key on it)."""
        return self.load_meta(path)["uid"]
