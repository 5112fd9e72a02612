"""Train the English -> German GRU translator on Multi30k and write assets/translator/<variant>.

    python -m training.train_translator --variant attention        # the bundled attention model
    python -m training.train_translator --variant no_attention     # the bundled baseline (fixed C)
    python -m training.train_translator --epochs 1 --train_limit 2000 --out /tmp/tr   # a quick try

Train on `train`, pick the epoch by greedy BLEU on `val`, report `test_2016_flickr` once at the
end (greedy here; `python -m training.evaluate_translator` adds beam search and length buckets).
Teacher forcing, batches of similar source length, packed encoder, loss masked to real target
tokens (PAD cells after each sentence's </s> do not count) with label smoothing.
"""

from __future__ import annotations

import argparse
import copy
import platform
import random
import signal
import time
from pathlib import Path

import numpy as np
import sacrebleu
import torch
from tqdm import tqdm

from models.masking import masked_cross_entropy, sequence_mask
from models.text import read_json
from models.translator import ASSETS, BOS_ID, EOS_ID, PAD_ID, Seq2Seq, Translator, TranslatorConfig

from .multi30k import LICENSE_NOTE, read_split, train_bpe

# -- defaults (each can be overridden on the command line) --------------------------
variant = "attention"  # or "no_attention": the same network whose decoder reads only C
source_vocab = 5000  # English BPE vocabulary (specials included)
target_vocab = 6000  # German BPE vocabulary; German has more word forms, and the output layer costs V per token
emb_dim = 256
enc_hidden = 256  # per direction
dec_hidden = 256  # sized with the vocabularies so two runs fit ~80 min of a shared 2-core CPU
dropout = 0.3
epochs = 12
max_minutes = 80.0  # stop after the epoch that passes this, so a run fits its CPU budget (2 cores shared)
batch_size = 64
learning_rate = 1e-3
label_smoothing = 0.1
clip_norm = 1.0
train_limit = 0  # use only the first N training pairs (0 = all 29,000); for quick tries
seed = 1234
threads = 1
out = ""  # default: assets/translator/<variant>
resume = ""  # a saved translator folder to continue from (its BPE and weights; Adam restarts; epochs count on)


# Standard settings: 13a tokenization, cased, exponential smoothing; one reference per sentence.
METRIC = sacrebleu.BLEU()


def make_batches(pairs: list[tuple[list[int], list[int]]], size: int, rng: random.Random | None) -> list[list[int]]:
    """Indices of pairs grouped into batches of similar source length (less padding, same loss).

    Shuffled pools of 50 batches are sorted by length and cut, then the batches are shuffled,
    so each epoch still sees a different order. rng=None keeps the order (evaluation).
    """
    order = list(range(len(pairs)))
    if rng:
        rng.shuffle(order)
    batches = []
    pool = size * 50
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda j: (len(pairs[j][0]), len(pairs[j][1])))
        batches += [chunk[k : k + size] for k in range(0, len(chunk), size)]
    if rng:
        rng.shuffle(batches)
    return batches


def tensors(pairs, batch: list[int]):
    """source [B, S] + lengths (CPU), target_in = <s> y [B, T], target_out = y </s> [B, T], mask [B, T]."""
    sources = [pairs[j][0] for j in batch]
    targets = [pairs[j][1] for j in batch]
    lengths = torch.tensor([len(s) for s in sources])
    target_lengths = torch.tensor([len(t) + 1 for t in targets])
    source = torch.full((len(batch), int(lengths.max())), PAD_ID, dtype=torch.long)
    target_in = torch.full((len(batch), int(target_lengths.max())), PAD_ID, dtype=torch.long)
    target_out = target_in.clone()
    for b, (s, t) in enumerate(zip(sources, targets)):
        source[b, : len(s)] = torch.tensor(s)
        target_in[b, : len(t) + 1] = torch.tensor([BOS_ID] + t)
        target_out[b, : len(t) + 1] = torch.tensor(t + [EOS_ID])
    return source, lengths, target_in, target_out, sequence_mask(target_lengths, target_in.shape[1])


def train_step(model, optimizer, logits, target_out, mask, args) -> tuple[float, int]:
    """One step on the label-smoothed loss of the real target tokens, gradients clipped to
    args.clip_norm; returns (the loss summed over those tokens, their count)."""
    loss = masked_cross_entropy(logits, target_out, mask, label_smoothing=args.label_smoothing)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
    optimizer.step()
    tokens = int(mask.sum())
    return loss.item() * tokens, tokens


def bleu(translator: Translator, english: list[str], german: list[str], batch: int = 100) -> tuple[float, list[str]]:
    """Corpus sacreBLEU (13a, cased, detokenized text) of greedy translations."""
    translator.model.eval()
    # Sorting by length keeps padding low; the hypotheses are put back in order afterwards.
    order = sorted(range(len(english)), key=lambda i: len(english[i]))
    hyps = [""] * len(english)
    for i in range(0, len(order), batch):
        idx = order[i : i + batch]
        for j, text in zip(idx, translator.translate_batch([english[j] for j in idx])):
            hyps[j] = text
    return METRIC.corpus_score(hyps, [german]).score, hyps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, value in [
        ("variant", variant),
        ("source_vocab", source_vocab),
        ("target_vocab", target_vocab),
        ("emb_dim", emb_dim),
        ("enc_hidden", enc_hidden),
        ("dec_hidden", dec_hidden),
        ("dropout", dropout),
        ("epochs", epochs),
        ("max_minutes", max_minutes),
        ("batch_size", batch_size),
        ("learning_rate", learning_rate),
        ("label_smoothing", label_smoothing),
        ("clip_norm", clip_norm),
        ("train_limit", train_limit),
        ("seed", seed),
        ("threads", threads),
        ("out", out),
        ("resume", resume),
    ]:
        parser.add_argument("--" + name, type=type(value), default=value)
    args = parser.parse_args()
    if args.variant not in ("attention", "no_attention"):
        raise ValueError(f"--variant must be attention or no_attention, got {args.variant!r}")

    # Shells start background jobs with SIGINT ignored; restore it so `kill -INT <pid>` still
    # ends training early and keeps the best epoch (see the try/except around the epochs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)

    print("reading Multi30k ...")
    train_en, train_de = read_split("train")
    val_en, val_de = read_split("val")
    test_en, test_de = read_split("test_2016_flickr")
    if args.train_limit:
        train_en, train_de = train_en[: args.train_limit], train_de[: args.train_limit]
    print(f"  train {len(train_en)} / val {len(val_en)} / test {len(test_en)} pairs")
    earlier: dict = {}  # the saved run we continue from, if any
    if args.resume:
        from models.translator import load_translator  # noqa: PLC0415 (only this path needs it)

        translator = load_translator(args.variant, folder=args.resume, device=torch.device("cpu"))
        source_tok, target_tok, model, config = (
            translator.source_tokenizer,
            translator.target_tokenizer,
            translator.model,
            translator.model.config,
        )
        earlier = read_json(Path(args.resume) / "config.json")
        print(f"  continuing from {args.resume} after epoch {len(earlier['history'])} (Adam state starts afresh)")
    else:
        source_tok, target_tok = train_bpe(train_en, args.source_vocab), train_bpe(train_de, args.target_vocab)
    print(f"  BPE vocabularies: English {source_tok.get_vocab_size()}, German {target_tok.get_vocab_size()}")
    pairs = [(source_tok.encode(e).ids + [EOS_ID], target_tok.encode(d).ids) for e, d in zip(train_en, train_de)]
    print(
        f"  mean length in subwords: source {np.mean([len(p[0]) for p in pairs]):.1f} (incl. </s>), "
        f"target {np.mean([len(p[1]) for p in pairs]):.1f}"
    )

    if not args.resume:
        config = TranslatorConfig(
            n_source=source_tok.get_vocab_size(),
            n_target=target_tok.get_vocab_size(),
            attention=args.variant == "attention",
            emb_dim=args.emb_dim,
            enc_hidden=args.enc_hidden,
            dec_hidden=args.dec_hidden,
            dropout=args.dropout,
        )
        model = Seq2Seq(config)
        translator = Translator(model, source_tok, target_tok, torch.device("cpu"), args.variant)
    print(f"  model ({args.variant}): {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)

    history = list(earlier.get("history", []))
    done = len(history)  # epochs already trained in the run we continue
    best_bleu, best_state, best_epoch, since_best = -1.0, None, 0, 0
    if earlier:
        best_epoch = earlier["scores"]["best_epoch"]
        best_bleu, best_state = bleu(translator, val_en, val_de)[0], copy.deepcopy(model.state_dict())
        print(f"  val BLEU of the saved model: {best_bleu:.2f}")
    stop_reason = f"all {args.epochs} epochs" + (" of this part" if earlier else "")
    part_start = time.time()
    start = part_start - earlier.get("scores", {}).get("train_seconds", 0)  # minutes count over both parts
    try:  # Ctrl-C (SIGINT) ends training early and keeps the best epoch so far
        for epoch in range(done + 1, done + args.epochs + 1):
            model.train()
            total_loss = total_tokens = 0.0
            bar = tqdm(make_batches(pairs, args.batch_size, rng), desc=f"epoch {epoch}", mininterval=30)
            for batch in bar:
                source, lengths, target_in, target_out, mask = tensors(pairs, batch)
                logits, _ = model(source, lengths, target_in)
                loss_sum, tokens = train_step(model, optimizer, logits, target_out, mask, args)
                total_loss, total_tokens = total_loss + loss_sum, total_tokens + tokens
            val_bleu, _ = bleu(translator, val_en, val_de)
            minutes = (time.time() - start) / 60
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": round(total_loss / total_tokens, 4),
                    "val_bleu": round(val_bleu, 2),
                    "lr": optimizer.param_groups[0]["lr"],
                    "minutes": round(minutes, 1),
                }
            )
            print(
                f"epoch {epoch}: train loss {total_loss / total_tokens:.4f} (smoothed), val BLEU {val_bleu:.2f}, "
                f"lr {optimizer.param_groups[0]['lr']:.1e}, {minutes:.1f} min",
                flush=True,
            )
            if val_bleu > best_bleu:
                best_bleu, best_state, best_epoch, since_best = val_bleu, copy.deepcopy(model.state_dict()), epoch, 0
            else:
                since_best += 1
                for group in optimizer.param_groups:  # val BLEU stopped rising: halve the step size
                    group["lr"] *= 0.5
            if since_best >= 3 or (time.time() - part_start) / 60 >= args.max_minutes:
                stop_reason = (
                    "no val gain in 3 epochs" if since_best >= 3 else f"time budget of {args.max_minutes:g} min"
                )
                print(f"stopping after epoch {epoch} ({stop_reason})")
                break
    except KeyboardInterrupt:
        if best_state is None:
            raise
        stop_reason = f"interrupted (Ctrl-C) during epoch {len(history) + 1}"
        print(f"{stop_reason}: keeping epoch {best_epoch}")
    train_seconds = time.time() - start

    model.load_state_dict(best_state)
    val_bleu, _ = bleu(translator, val_en, val_de)
    test_bleu, hyps = bleu(translator, test_en, test_de)
    print(
        f"best epoch {best_epoch}: val BLEU {val_bleu:.2f}, test_2016_flickr BLEU {test_bleu:.2f} (greedy; "
        f"tutorial anchors: 28.3 with attention, 20.6 without)"
    )
    for e, h in list(zip(test_en, hyps))[:3]:
        print(f"  {e}\n  -> {h}")

    # Latency of one 15-word sentence, greedy and beam 5, as the app translates it.
    sentence = "A young man in a red jacket rides his old bicycle down a busy street."
    assert len(sentence.split()) == 15
    latency = {}
    for beam in (1, 5):
        translator.translate(sentence, beam_size=beam)
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            translator.translate(sentence, beam_size=beam)
            times.append(time.perf_counter() - t0)
        latency[f"beam_{beam}_ms"] = round(float(np.median(times)) * 1000, 1)
    print(f"translating a 15-word sentence: {latency} (median of 20, {args.threads} CPU threads)")

    folder = Path(args.out) if args.out else ASSETS / args.variant
    run = {k: getattr(args, k) for k in vars(args)}
    run.pop("out")
    if earlier:  # the card's command lines reproduce both parts; the first with its epoch count, not its clock
        run = {**run, "resume": "", "first_part": {**earlier["training"], "epochs": done, "max_minutes": 100000.0}}
    scores = {
        "val_bleu_greedy": round(val_bleu, 2),
        "test_bleu_greedy": round(test_bleu, 2),
        "best_epoch": best_epoch,
        "stop_reason": stop_reason,
        "train_seconds": round(train_seconds),
        "latency_15_words": latency,
        "sacrebleu": str(METRIC.get_signature()),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    translator.save(folder, {"training": run, "scores": scores, "history": history})
    write_model_card(folder, config, scores, run, history, sum(p.numel() for p in model.parameters()))
    print(f"wrote {folder}")
    # Like d2l's train_ch3: a full run that ends far below the published range is a bug, not a result.
    if not args.train_limit:
        floor = 20.0 if config.attention else 10.0
        assert test_bleu > floor, f"test BLEU {test_bleu:.2f} is implausibly low for {args.variant} (floor {floor})"


def write_model_card(
    folder: Path, config: TranslatorConfig, scores: dict, run: dict, history: list, n_params: int
) -> None:
    first = run.pop("first_part", None)
    flags = " ".join(f"--{k} {v}" for k, v in run.items() if k != "resume")
    if first:  # trained in two parts: the first run, then this one continuing from its output
        if not scores["stop_reason"].startswith("no val gain"):  # stopped by the clock or Ctrl-C: the epochs it ran
            second = {**run, "epochs": len(history) - first["epochs"], "max_minutes": 100000.0}
            flags = " ".join(f"--{k} {v}" for k, v in second.items() if k != "resume")
        first_flags = " ".join(f"--{k} {v}" for k, v in first.items() if k != "resume")
        flags = f"{first_flags} --out first_part\n    python -m training.train_translator {flags} --resume first_part"
    same_epochs = ""
    if not first and len(history) < run["epochs"] and not scores["stop_reason"].startswith("no val gain"):
        # Stopped by the clock (or Ctrl-C), which depends on the machine: the same epochs, without a clock.
        fixed = {**run, "epochs": len(history), "max_minutes": 100000.0}
        same_epochs = (
            "\nThe same {} epochs without a time budget (the result differs only by floating-point "
            "nondeterminism):\n\n    python -m training.train_translator {}\n"
        ).format(len(history), " ".join(f"--{k} {v}" for k, v in fixed.items()))
    size_mb = (folder / "model.safetensors").stat().st_size / 1e6
    if config.attention:
        what = (
            "a GRU decoder with additive (Bahdanau) attention: at step t, e_ts = vᵀ tanh(W_s s_{t-1} + W_h h_s), "
            "α_t = softmax(e_t) over the source, c_t = Σ_s α_ts h_s"
        )
        anchor = "28.3 (GRU + Bahdanau attention, popular PyTorch seq2seq tutorials)"
    else:
        what = (
            "a GRU decoder **without attention**: every step reads the same context C = [→h_S; ←h_1], "
            "the encoder's final states (Cho et al. 2014)"
        )
        anchor = "20.6 (GRU encoder-decoder without attention, popular PyTorch seq2seq tutorials)"
    epochs_table = "\n".join(
        f"| {h['epoch']} | {h['train_loss']} | {h['val_bleu']} | {h['lr']:.1e} | {h['minutes']} |" for h in history
    )
    card = f"""# GRU encoder-decoder, English → German (Multi30k), variant `{run["variant"]}`

A bidirectional GRU encoder ({config.enc_hidden} units per direction, run on packed source
batches) and {what}. Decoder GRU {config.dec_hidden} units; embeddings {config.emb_dim} dims;
output layer tied to the target embedding through a tanh readout of [s_t; c_t; E y_(t-1)].
{n_params / 1e6:.2f} M parameters, stored in fp16 ({size_mb:.1f} MB; loaded as fp32).
Subwords: cased BPE trained with HF `tokenizers` on the training split only, English
{config.n_source} and German {config.n_target} entries (Metaspace "▁" word starts, punctuation split off),
so a translation decodes back to plain text. Files: `model.safetensors`, `config.json`
(architecture, training settings, scores, per-epoch history), `tokenizer.en.json`, `tokenizer.de.json`.

## Data and license
Multi30k task 1 (Elliott et al. 2016), raw text from `../shared/data/multi30k`: train 29,000
caption pairs for training, val 1,014 for choosing the epoch, test_2016_flickr 1,000 reported once.
{LICENSE_NOTE} These weights are derived from it: use them for non-commercial research and
education only.

## Measured
sacreBLEU on detokenized, cased output against the raw German references (`{scores["sacrebleu"]}`).

| split | decoding | BLEU | published anchor |
|---|---|---|---|
| val | greedy | {scores["val_bleu_greedy"]:.2f} | |
| test_2016_flickr | greedy | {scores["test_bleu_greedy"]:.2f} | {anchor} |

Beam search, BLEU by source length and both variants side by side: `assets/translator/EVALUATION.md`
(from `python -m training.evaluate_translator`). The anchors come from tutorials that score
lower-cased, tokenized text, so they are a guide, not a like-for-like comparison.

Best epoch {scores["best_epoch"]} of {len(history)} (stopped: {scores["stop_reason"]}); training took {scores["train_seconds"]} s
({scores["train_seconds"] / 60:.0f} min) on {scores["cpu"]} with {run["threads"]} thread(s), torch {scores["torch"]}.
Translating one 15-word sentence on the CPU: {scores["latency_15_words"]["beam_1_ms"]} ms greedy,
{scores["latency_15_words"]["beam_5_ms"]} ms with beam 5 (median of 20).

| epoch | train loss (label-smoothed) | val BLEU (greedy) | learning rate | minutes |
|---|---|---|---|---|
{epochs_table}

## Reproduce
The run that made these weights:

    python -m training.train_translator {flags}
{same_epochs}"""
    (folder / "MODEL_CARD.md").write_text(card, encoding="utf-8")


if __name__ == "__main__":
    main()
