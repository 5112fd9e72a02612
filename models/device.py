"""Which torch device the models run on."""

from __future__ import annotations

import os

import torch


def pick_device() -> torch.device:
    """CUDA when present, else CPU; EXPLORER_DEVICE=cpu|cuda|cuda:N overrides."""
    wanted = os.environ.get("EXPLORER_DEVICE", "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError as err:
            raise ValueError(
                f"EXPLORER_DEVICE={wanted!r} is not a torch device ({err}); use cpu, cuda or cuda:N."
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"EXPLORER_DEVICE={wanted!r} asks for CUDA, but torch sees no GPU here.")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
