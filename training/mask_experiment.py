"""The mask experiment from the command line: the three runs of one setting, their end figures.

    python -m training.mask_experiment                      # the Batch tab's default runs
    python -m training.mask_experiment --steps 300 --sort-by-length --seed 1

Prints, per run, the held-out accuracy on real tokens, the accuracy with the pads counted, the
last training loss and the training milliseconds per step (models/mask_experiment.py), then one
JSON line with the same figures.
"""

from __future__ import annotations

import argparse
import json

import torch

from models.mask_experiment import MaskExperiment
from models.mask_setting import DEFAULT, settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=DEFAULT.seed)
    parser.add_argument("--batch-size", type=int, default=DEFAULT.batch_size)
    parser.add_argument("--steps", type=int, default=DEFAULT.steps)
    parser.add_argument("--learning-rate", type=float, default=DEFAULT.learning_rate)
    parser.add_argument("--sort-by-length", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    experiment = MaskExperiment()
    shared = dict(seed=args.seed, batch_size=args.batch_size, steps=args.steps, learning_rate=args.learning_rate,
                  sort_by_length=args.sort_by_length)  # fmt: skip
    figures = []
    print(f"{'run':<20}{'accuracy':>10}{'with pads':>11}{'loss':>8}{'ms/step':>9}")
    for setting in settings(**shared):
        r = experiment.run(setting)
        name = f"{setting.loss} + {setting.batching}"
        row = dict(run=name, accuracy=round(float(r.accuracy[-1]), 4),
                   accuracy_with_pads=round(float(r.accuracy_with_pads[-1]), 4), loss=round(float(r.loss[-1]), 4),
                   ms_per_step=round(1000 * r.seconds_per_step, 1))  # fmt: skip
        figures.append(row)
        print(f"{name:<20}{100 * row['accuracy']:>9.1f}%{100 * row['accuracy_with_pads']:>10.1f}%"
              f"{row['loss']:>8.3f}{row['ms_per_step']:>9.1f}")  # fmt: skip
    print(json.dumps({"setting": shared, "runs": figures}))


if __name__ == "__main__":
    main()
