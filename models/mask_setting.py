"""The mask experiment's settings: what one training run may be asked, and the three runs the
Batch tab compares. No torch here: the app builds its sliders and links from these before it
loads anything (models/mask_experiment.py trains)."""

from __future__ import annotations

from dataclasses import dataclass, fields

LOSSES = ("masked", "unmasked")
BATCHINGS = ("packed", "padded")
# What a setting may hold: small enough that three runs take seconds on a classroom server.
RANGES = {"batch_size": (2, 64), "steps": (10, 600), "learning_rate": (1e-4, 0.1), "seed": (0, 10_000)}
RECORDS = 20  # points per curve (every steps / RECORDS steps, and the last step)


@dataclass(frozen=True)
class Setting:
    """One training run. sort_by_length: batches of similar lengths (little padding) instead
    of random ones (much padding, where the mask matters most)."""

    loss: str = "masked"
    batching: str = "packed"
    seed: int = 0
    batch_size: int = 32
    steps: int = 150
    learning_rate: float = 0.01
    sort_by_length: bool = False

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {str(self.loss)[:40]!r}.")
        if self.batching not in BATCHINGS:
            raise ValueError(f"batching must be one of {', '.join(BATCHINGS)}, got {str(self.batching)[:40]!r}.")
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            kind = float if name == "learning_rate" else int
            if isinstance(value, bool) or not isinstance(value, (int, float)) or kind(value) != value:
                raise ValueError(f"{name} must be {'a number' if kind is float else 'a whole number'}, got {value!r}.")
            if not low <= value <= high:
                raise ValueError(f"{name} must be from {low:g} to {high:g}, got {value!r}.")
        if not isinstance(self.sort_by_length, bool):
            raise ValueError(f"sort_by_length must be true or false, got {self.sort_by_length!r}.")


def settings(**shared) -> tuple[Setting, ...]:
    """The experiment's three runs with the same shared settings: masked + packed (right),
    masked + padded (the LSTM reads pads), unmasked + padded (the classic bug)."""
    return tuple(
        Setting(loss=loss, batching=batching, **shared)
        for loss, batching in (("masked", "packed"), ("masked", "padded"), ("unmasked", "padded"))
    )


SHARED = tuple(f.name for f in fields(Setting) if f.name not in ("loss", "batching"))  # what the three runs share
DEFAULT = Setting()
