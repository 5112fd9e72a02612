"""Train the decomposable attention NLI model on frozen all-MiniLM-L6-v2 states and write assets/nli.

    python -m training.train_nli --out artifacts/nli_run            # the defaults (training/nli_recipe.py)
    python -m training.train_nli --layer_mix --epochs 20 --patience 2 --threads 2 --max_minutes 75 --swap_pairs 20000 \
        --swaps_per_premise 2 --drop_swapped_from sick_train,sick_trial,sick_test \
        --no_swaps_from sick_train,sick_trial,sick_test --out artifacts/nli_conv   # the bundled recipe (nli_recipe.BUNDLED)
    python -m training.train_nli --out artifacts/nli_run --resume   # go on from artifacts/nli_run's checkpoint
    python -m training.train_nli --exclude_sources mpe,xnli_en,sick_train,sick_trial,sick_test   # commercial-clean data

Every option is a field of NLIRecipe (training/nli_recipe.py), where its default is; the flags are
made from the fields, and config.json's "training" keeps them. Options that never shipped (GloVe,
fine-tuned MiniLM layers, intra-attention, --limit, --epoch_pairs) are flags of
training/nli_experiments.py, which trains with the same loop (fit).

--train/--valid/--test take comma-separated shared names (training/nli_data.py: snli_dev,
snli_train_sample, cad_revised_train, mpe, xnli_en, mnli_dev_matched, sick_train, ...) or paths
to TSV/JSONL files with gold_label, sentence1, sentence2. The epoch is chosen on --valid
(never trained on: a training pair whose premise is a --valid premise stops the run);
--test is reported once. The frozen encoder runs once per sentence and its states are cached in
--cache (artifacts/, git-ignored); only the mix weights (--layer_mix) and F, G, H train.

The best epoch so far is always in --out; weights + optimizer state + position go to --checkpoint
(default <out>/checkpoint, or artifacts/nli_checkpoint when --out is assets/nli; artifacts/ is
git-ignored) at every epoch end, every --checkpoint_minutes and on SIGTERM, and --resume continues
from there (same data and settings; --epochs may grow, which stretches the linear decay).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from models.minilm import WEIGHTS_SHA256
from models.nli import ASSETS, NLI, NLIConfig, NLIModel, build_minilm_words
from models.nli_words import MiniLMWords, Prepared
from models.text import read_json, write_json

from . import nli_data
from .eval_nli import evaluate_folder
from .nli_card import option_name, write_model_card
from .nli_data import LABELS, Pair
from .nli_recipe import NLIRecipe, add_flags, field_names, from_flags
from .nli_swaps import run_swaps

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "artifacts" / "nli_cache"  # the frozen encoder's states, once per data set (git-ignored)


@dataclass(frozen=True)
class RunFolders:
    """Where a run writes (not part of the recipe: config.json does not keep it)."""

    out: Path  # the best epoch so far: weights, config.json, MODEL_CARD.md
    cache: Path
    checkpoint: Path  # weights + optimizer state + position, for --resume
    resume: bool = False


@dataclass
class RunPairs:
    """The pairs of a run, by set name (for encoding each set once) and all together."""

    train_sets: dict[str, list[Pair]]  # --train less --exclude_sources, then "lexical_swaps"
    train_pairs: list[Pair]  # every pair of train_sets (with --limit, a sample of them, and the swaps)
    valid_sets: dict[str, list[Pair]]
    valid_pairs: list[Pair]  # scored after each epoch (with --valid_limit, the first N)
    sizes: dict[str, int]  # pairs per training set (empty with --limit: a sample drawn from all of them)


def main(argv: list[str] | None = None) -> None:
    train(*parse(argv))


def train(recipe: NLIRecipe, folders: RunFolders) -> None:
    """The shipped architecture: F, G, H over the frozen MiniLM's layer-`minilm_layer` states (or their learned mix)."""
    if recipe.experiments():
        raise ValueError(
            f"this recipe sets never-shipped options {recipe.experiments()}: train it with training/nli_experiments.py"
        )
    seed_everything(recipe)
    pairs = run_pairs(recipe)
    config = NLIConfig(
        minilm_layer=recipe.minilm_layer,
        train_layers=0,  # the encoder is frozen: its states are cached once per sentence
        layer_mix=recipe.layer_mix,
        hidden=recipe.hidden,
        dropout=recipe.dropout,
    )
    words = build_minilm_words(config)
    words.max_pieces = recipe.max_pieces_train
    prepared = prepare_sentences(pairs, lambda name, sentences: cached_prepare(words, name, sentences, folders.cache))
    model = NLIModel(config, words)
    trained = [p for p in model.parameters() if p.requires_grad]  # F, G, H and the mix weights
    optimizer = torch.optim.AdamW([param_group(trained, recipe.learning_rate)], weight_decay=0.0)
    fit(recipe, folders, model, optimizer, pairs, prepared)


def parse(
    argv: list[str] | None, experiments: bool = False, description: str | None = None
) -> tuple[NLIRecipe, RunFolders]:
    """The recipe (one flag per NLIRecipe field; the never-shipped ones only with `experiments`) and where the run writes."""
    parser = argparse.ArgumentParser(
        description=description or __doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_flags(parser, experiments)
    parser.add_argument("--out", default=str(ASSETS))
    parser.add_argument("--cache", default=str(CACHE))
    parser.add_argument(
        "--checkpoint", default="", help="default <out>/checkpoint (artifacts/nli_checkpoint for assets/nli)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint (see --checkpoint)")
    args, unknown = parser.parse_known_args(argv)
    moved = [f for f in unknown if f.startswith("--") and f[2:].split("=")[0] in field_names()]
    if moved:
        parser.error(f"{moved[0]} never shipped; it is a flag of training/nli_experiments.py")
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    out = Path(args.out)
    # Checkpoints (weights + optimizer state, ~150 MB) never go into the repository's assets/.
    checkpoint = (
        Path(args.checkpoint)
        if args.checkpoint
        else REPO / "artifacts" / "nli_checkpoint"
        if out.resolve() == ASSETS.resolve()
        else out / "checkpoint"
    )
    return from_flags(args), RunFolders(out, Path(args.cache), checkpoint, args.resume)


def seed_everything(recipe: NLIRecipe) -> None:
    torch.manual_seed(recipe.seed)
    random.seed(recipe.seed)
    np.random.seed(recipe.seed)
    torch.set_num_threads(recipe.threads)


def run_pairs(recipe: NLIRecipe) -> RunPairs:
    """The recipe's training pairs (lexical swaps added) and selection pairs, checked for a leak."""
    print("reading pairs ...")
    train_sets, train_pairs = nli_data.training_sets(recipe)
    valid_sets, valid_pairs = nli_data.selection_sets(recipe)
    if recipe.swap_pairs:  # made from the pairs chosen above, so --exclude_sources and --limit hold for them too
        train_sets["lexical_swaps"] = run_swaps(recipe, train_sets, train_pairs)
        train_pairs += train_sets["lexical_swaps"]
    sizes = {} if recipe.limit else {name: len(pairs) for name, pairs in train_sets.items()}
    for name, pairs in {**train_sets, **valid_sets}.items():
        print(f"  {name}: {len(pairs)} pairs {nli_data.label_counts(pairs)}")
    assert train_pairs and valid_pairs, "need training and validation pairs"
    overlap = {p.premise for p in train_pairs} & {p.premise for p in valid_pairs}
    # The named sets are built premise-disjoint (nli_data.PREMISE_DISJOINT): an overlap there is a bug.
    # Files of your own are yours to split; they only get the count.
    assert not overlap or not set(nli_data.train_names(recipe)) <= set(nli_data.known_names()), (
        f"{len(overlap)} selection premises occur in training, e.g. {sorted(overlap)[:2]}: selection would leak"
    )
    print(
        f"  training on {len(train_pairs)} pairs ({', '.join(train_sets)}); selection on {len(valid_pairs)}, "
        f"{len(overlap)} selection premises also in training"
    )
    return RunPairs(train_sets, train_pairs, valid_sets, valid_pairs, sizes)


def prepare_sentences(pairs: RunPairs, prepare) -> dict[str, Prepared]:
    """Every sentence of the pairs used, encoded set by set by `prepare(name, sentences) -> {sentence: Prepared}`."""
    prepared: dict[str, Prepared] = {}
    used = {s for p in pairs.train_pairs + pairs.valid_pairs for s in (p.premise, p.hypothesis)}  # --limit: the sample
    for name, set_pairs in {**pairs.train_sets, **pairs.valid_sets}.items():
        sentences = [s for p in set_pairs for s in (p.premise, p.hypothesis) if s in used]
        # a swapped pair's premise is already a training sentence: only its new hypothesis is encoded
        if name == "lexical_swaps":
            sentences = [s for s in sentences if s not in prepared]
        prepared.update(prepare(name, sentences))
    return prepared


def param_group(params: list[torch.nn.Parameter], learning_rate: float) -> dict:
    """An optimizer parameter group; base_lr is the peak the warm-up and decay scale."""
    return {"params": params, "lr": learning_rate, "base_lr": learning_rate}


def cached_prepare(words: MiniLMWords, name: str, sentences: list[str], cache_dir: Path) -> dict[str, Prepared]:
    """Prepared sentences of one data set, read from or written to a safetensors cache.

    The file holds the frozen encoder's output at the layer below the trained ones, flattened
    [pieces, D] in fp16 (a layer mix: every state, per word, [words, L + 1, D]), keyed by the
    sentences, the piece limit, the layer and the encoder weights' hash.
    """
    sentences = sorted(set(sentences))
    if not sentences:  # e.g. lexical swaps whose every hypothesis is already a sentence of the data
        return {}
    lower = words.layer - len(words.upper)
    if lower <= 0:  # nothing frozen above the embeddings: computing them is cheaper than a cache
        prepared = words.prepare(sentences)
        for p in prepared:
            p.hidden = p.hidden.half()
        return dict(zip(sentences, prepared))
    key = hashlib.sha1("\n".join([WEIGHTS_SHA256, str(words.max_pieces), *sentences]).encode()).hexdigest()[:12]
    # A layer mix keeps every state, per word (mixing and pooling are both linear: the same vectors,
    # with fewer rows); one layer keeps its states per piece, for the trained layers above it.
    kind = "mix" if words.layer_mix else "L"
    path = cache_dir / f"{Path(name).name.split('.')[0]}-{kind}{lower}-P{words.max_pieces}-{key}.safetensors"
    split = words.split(sentences)
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"  encoding {len(sentences)} sentences of {name} once (frozen layers 1-{lower}) -> {path}")
        by_length = sorted(split, key=lambda p: len(p.ids))  # similar lengths: little padding
        for k in tqdm(range(0, len(by_length), 1024), desc=name, mininterval=30):
            for p in words.run_frozen(by_length[k : k + 1024], batch_size=128):
                if words.layer_mix:
                    words.pool_every_state(p)
                p.hidden = p.hidden.half()
        save_file(
            {"hidden": torch.cat([p.hidden for p in split]), "lengths": torch.tensor([len(p.hidden) for p in split])},
            str(path),
        )
    cached = load_file(str(path))
    for p, h in zip(split, cached["hidden"].split(cached["lengths"].tolist())):
        p.hidden, p.pooled = h, words.layer_mix
    return dict(zip(sentences, split))


def batches(pairs: list[Pair], prepared: dict[str, Prepared], size: int, rng: random.Random | None):
    """Batches of similar length (sorted inside chunks of 50 batches), so little padding runs through
    the layers; rng shuffles the pairs and the batch order (None: keep the order)."""
    order = list(range(len(pairs)))
    if rng:
        rng.shuffle(order)
    length = lambda i: len(prepared[pairs[i].premise].ids) + len(prepared[pairs[i].hypothesis].ids)  # noqa: E731
    chunks = [sorted(order[k : k + 50 * size], key=length) for k in range(0, len(order), 50 * size)]
    out = [c[k : k + size] for c in chunks for k in range(0, len(c), size)]
    if rng:
        rng.shuffle(out)
    return out


def evaluate(model: NLIModel, pairs: list[Pair], prepared: dict[str, Prepared], size: int = 128) -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for idx in batches(pairs, prepared, size, rng=None):
            out, _, _ = model([prepared[pairs[i].premise] for i in idx], [prepared[pairs[i].hypothesis] for i in idx])
            gold = torch.tensor([LABELS.index(pairs[i].label) for i in idx])
            correct += int((out.logits.argmax(-1).cpu() == gold).sum())
    return correct / max(1, len(pairs))


# -- checkpoints: safetensors for the tensors, JSON for the rest (no pickle) -------------------
def save_checkpoint(folder: Path, model: NLIModel, optimizer: torch.optim.Optimizer, progress: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {"model." + k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    state = optimizer.state_dict()
    for index, slots in state["state"].items():
        for slot, value in slots.items():
            tensors[f"optimizer.{index}.{slot}"] = torch.as_tensor(value).detach().cpu().contiguous()
    save_file(tensors, str(folder / "last.safetensors.tmp"))
    write_json({**progress, "param_groups": state["param_groups"]}, folder / "last.json.tmp")
    (folder / "last.safetensors.tmp").replace(folder / "last.safetensors")  # never half a checkpoint
    (folder / "last.json.tmp").replace(folder / "last.json")


def load_checkpoint(folder: Path, model: NLIModel, optimizer: torch.optim.Optimizer) -> dict:
    tensors = load_file(str(folder / "last.safetensors"))
    progress = read_json(folder / "last.json")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    slots: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("optimizer."):
            _, index, slot = k.split(".")
            slots.setdefault(int(index), {})[slot] = v
    optimizer.load_state_dict({"state": slots, "param_groups": progress.pop("param_groups")})
    return progress


def fit(
    recipe: NLIRecipe,
    folders: RunFolders,
    model: NLIModel,
    optimizer: torch.optim.Optimizer,
    pairs: RunPairs,
    prepared: dict[str, Prepared],
) -> None:
    """The training loop: each epoch scores the selection pairs, the best epoch is written to folders.out,
    checkpoints go to folders.checkpoint; at the end the test sets are scored and the score checked."""
    device = torch.device("cpu")
    model.to(device)
    folder, checkpoint = folders.out, folders.checkpoint
    train_pairs, valid_pairs = pairs.train_pairs, pairs.valid_pairs
    trained = sum(p.numel() for g in optimizer.param_groups for p in g["params"])
    print(f"  model: {trained / 1e6:.2f} M parameters trained; word vectors: {option_name(asdict(model.config))}")

    per_pass = len(batches(train_pairs, prepared, recipe.batch_size, rng=None))
    steps_per_epoch = math.ceil(recipe.epoch_pairs / recipe.batch_size) if recipe.epoch_pairs else per_pass
    total_steps = recipe.epochs * steps_per_epoch
    learning_rate_factor = lambda s: (
        min(1.0, (s + 1) / (recipe.warmup * total_steps + 1)) * max(0.0, 1 - s / total_steps)
    )  # noqa: E731

    progress = {
        "step": 0,
        "epoch_loss": 0.0,
        "epoch_seen": 0,
        "history": [],
        "best_valid": -1.0,
        "best_epoch": 0,
        "seconds": 0.0,
    }
    if folders.resume:
        progress = load_checkpoint(checkpoint, model, optimizer)
        print(
            f"  resumed from {checkpoint} at step {progress['step']} (epoch {progress['step'] // steps_per_epoch + 1})"
        )
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))  # finish the step, save, then exit

    session_start, last_save = time.time(), time.time()
    seconds_before = progress["seconds"]
    elapsed = lambda: seconds_before + time.time() - session_start  # noqa: E731 - over all sessions
    save = lambda: save_checkpoint(checkpoint, model, optimizer, {**progress, "seconds": round(elapsed())})  # noqa: E731
    passes: dict[int, list] = {}
    # Checked before each step, so a --resume of a run that already stopped trains no further.
    while progress["step"] < total_steps and not patience_spent(
        progress["history"], progress["best_epoch"], recipe.patience
    ):
        step = progress["step"]
        pass_, within = divmod(step, per_pass)
        if pass_ not in passes:  # the same shuffle on every resume
            passes = {
                pass_: batches(train_pairs, prepared, recipe.batch_size, rng=random.Random(recipe.seed * 1000 + pass_))
            }
        if step % steps_per_epoch == 0 or not model.training:
            torch.manual_seed(recipe.seed + step)  # dropout masks: reproducible from any resumed step
            model.train()
        idx = passes[pass_][within]
        result, _, _ = model(
            [prepared[train_pairs[i].premise] for i in idx], [prepared[train_pairs[i].hypothesis] for i in idx]
        )
        gold = torch.tensor([LABELS.index(train_pairs[i].label) for i in idx], device=device)
        loss = F.cross_entropy(result.logits, gold)
        for g in optimizer.param_groups:
            g["lr"] = g["base_lr"] * learning_rate_factor(step)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip_norm)
        optimizer.step()
        progress["step"] += 1
        progress["epoch_loss"] += loss.item() * len(idx)
        progress["epoch_seen"] += len(idx)
        if progress["step"] % 50 == 0:
            print(
                f"  step {progress['step']}/{total_steps}: loss {progress['epoch_loss'] / progress['epoch_seen']:.4f} "
                f"this epoch, {elapsed():.0f} s",
                flush=True,
            )
        if progress["step"] % steps_per_epoch == 0:
            epoch = progress["step"] // steps_per_epoch
            valid_acc = evaluate(model, valid_pairs, prepared)
            progress["history"].append(
                {
                    "epoch": epoch,
                    "pairs": progress["epoch_seen"],
                    "train_loss": round(progress["epoch_loss"] / progress["epoch_seen"], 4),
                    "valid_accuracy": round(valid_acc, 4),
                    "seconds": round(elapsed()),
                }
            )
            print(
                f"epoch {epoch}: train loss {progress['history'][-1]['train_loss']:.4f}, valid accuracy {valid_acc * 100:.2f} %, "
                f"{elapsed():.0f} s",
                flush=True,
            )
            progress["epoch_loss"], progress["epoch_seen"] = 0.0, 0
            if valid_acc > progress["best_valid"]:
                progress["best_valid"], progress["best_epoch"] = valid_acc, epoch
                write_model(folder, model, recipe, progress, trained, len(train_pairs), pairs.sizes, elapsed())
            save()
            last_save = time.time()
        elif time.time() - last_save > 60 * recipe.checkpoint_minutes:
            save()
            last_save = time.time()
        if stop["now"] or (recipe.max_minutes and time.time() - session_start > 60 * recipe.max_minutes):
            save()
            print(
                f"stopped at step {progress['step']}/{total_steps}; checkpoint in {checkpoint}; "
                f"continue with the same command and --resume",
                flush=True,
            )
            return

    print(f"best epoch {progress['best_epoch']}: valid accuracy {progress['best_valid'] * 100:.2f} %; in {folder}")
    record_stop(folder, progress, recipe.epochs, elapsed())
    if recipe.test:
        evaluate_folder(folder, list(recipe.test))
    # Like d2l's train_ch3: a run that ends far below what the recipe reaches is a bug, not a result.
    assert progress["best_valid"] >= recipe.min_accuracy, (
        f"valid accuracy {progress['best_valid']:.3f} is below --min_accuracy {recipe.min_accuracy}"
    )


def patience_spent(history: list[dict], best_epoch: int, patience: int) -> bool:
    """Selection has not risen for `patience` epochs (0: never spent): more epochs fit the training pairs, not the task."""
    return bool(patience and history and history[-1]["epoch"] - best_epoch >= patience)


def stop_reason(history: list[dict], best_epoch: int, epochs: int) -> str:
    """Why the run ended, in the card's words."""
    last = history[-1]["epoch"] if history else 0
    if last < epochs:
        return f"stopped after epoch {last} of {epochs}: selection had not risen for {last - best_epoch} epochs"
    if best_epoch == last:
        return f"all {epochs} epochs; selection was still rising at the last one"
    return f"all {epochs} epochs; selection peaked at epoch {best_epoch}"


def record_stop(folder: Path, progress: dict, epochs: int, seconds: float) -> None:
    """The whole history (the best epoch's config.json only knew the epochs before it) and why the run ended."""
    info = read_json(folder / "config.json")
    info["history"] = progress["history"]
    info["scores"]["stop"] = stop_reason(progress["history"], progress["best_epoch"], epochs)
    info["scores"]["run_seconds"] = round(seconds)  # train_seconds: up to the best epoch
    write_json(info, folder / "config.json")
    write_model_card(folder)


def write_model(
    folder: Path,
    model: NLIModel,
    recipe: NLIRecipe,
    progress: dict,
    trained: int,
    n_pairs: int,
    sizes: dict[str, int],
    seconds: float,
) -> None:
    """The best model so far into `folder` (weights, config.json with the history, MODEL_CARD.md)."""
    words = model.words
    if isinstance(words, MiniLMWords):
        words.max_pieces = model.config.max_pieces  # inference reads whole sentences (up to the view's limit)
    info = {
        "training": recipe.options(),
        "history": progress["history"],
        "trained_millions": round(trained / 1e6, 2),
        "train_sets": sizes,  # pairs per training set (empty with --limit: a sample drawn from all of them)
        "scores": {
            "valid_accuracy": round(progress["best_valid"], 4),
            "best_epoch": progress["best_epoch"],
            "train_pairs": n_pairs,
            "train_seconds": round(seconds),
        },
    }
    NLI(model, torch.device("cpu")).save(folder, info)  # a fresh config.json: no test scores of an earlier epoch
    write_model_card(folder)
    if isinstance(words, MiniLMWords):
        words.max_pieces = recipe.max_pieces_train


if __name__ == "__main__":
    main()
