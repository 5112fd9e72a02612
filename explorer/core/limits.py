"""Every input limit of the app, in one place. Widgets show them; analyze re-checks them."""

from __future__ import annotations

import unicodedata

from models.hub import HUB_ID, is_dir

MAX_CHARS = 5000  # characters in one text field (16 long lines fit)
MAX_QUERY_CHARS = 4 * MAX_CHARS  # a deep link's query string: four full text boxes; a longer one is not read
# The Copy link box shows location.href: the origin and a query string that percent-encoding can
# make up to three times as long as the text it carries.
MAX_LINK_CHARS = 3 * MAX_QUERY_CHARS + 500
MAX_SENTENCES = 16  # lines in the batch view
MAX_TOKENS = 100  # tokens per sentence, after tokenization
MAX_TOP_TAGS = 17  # columns of the tag-probability heatmap (the whole UPOS tagset)
# Self-attention: word pieces incl. [CLS]/[SEP]. The layers x heads grid grows with T^2
# (6 x 12 x 64^2 cells at the limit); bertviz's HTML grows faster (2.8 MB at 30 pieces,
# 12 MB at 62, before rounding), so it gets a lower cap.
MAX_ATTENTION_TOKENS = 64
MAX_BERTVIZ_TOKENS = 40
# Inside self-attention (issue 14): the first position embeddings compared; word pieces per
# sentence of the ablation pair (its table runs 2 x 73 rows in one batch: ~1.3 s at 20 pieces on
# a 2-core CPU, and it grows with the pieces); integrated-gradient steps (one batch of them).
POSITIONS_SHOWN = 64
MAX_ABLATION_PIECES = 32
MAX_HEAD_LIST = 600  # characters of the ablation's list of heads (72 heads as 'l.h, ' fit in 432)
SALIENCY_STEPS = 32
MAX_MODEL_NAME = 200  # characters of a hub id typed into the encoder box
MAX_SEED = 10_000  # the Positions experiment's shuffle seed; the mask experiment's training seed
# The mask experiment (Batch tab): a custom setting trains on the server, one request at a time.
MAX_RUN_SECONDS = 20  # CPU seconds one run may train before it stops (three runs a request)
MAX_QUEUED_RUNS = 6  # requests that may wait behind the one training; more are turned away
MAX_WORDS = 12  # the Lesson's words: a 12 x 12 cosine map is still readable on a projector
MAX_WORD_CHARS = 40
MAX_NLI_PIECES = 80  # MiniLM word pieces per NLI sentence: a wider alignment heatmap is unreadable


def clean_text(text: str | None, what: str = "Text") -> str:
    """Drop control, zero-width and direction-override characters; check length and emptiness.

    Those characters are invisible, so a user cannot see why a token looks odd, and
    bidi overrides can make a label display in a misleading order.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text, got {type(text).__name__}.")
    if len(text) > MAX_CHARS:
        raise ValueError(f"{what} has {len(text)} characters; the limit is {MAX_CHARS}.")
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    if not kept.strip():
        raise ValueError(f"{what} is empty: type a sentence.")
    return kept


def check_tokens(tokens: list[str], what: str = "The sentence") -> list[str]:
    if not tokens:
        raise ValueError(f"{what} has no tokens: type some words.")
    if len(tokens) > MAX_TOKENS:
        raise ValueError(f"{what} has {len(tokens)} tokens; the limit is {MAX_TOKENS}.")
    return tokens


def split_lines(text: str | None, what: str = "Input") -> list[str]:
    """One sentence per non-empty line, 1 to MAX_SENTENCES of them."""
    lines = [line.strip() for line in clean_text(text, what).splitlines() if line.strip()]
    if len(lines) > MAX_SENTENCES:
        raise ValueError(f"{what} has {len(lines)} sentences (lines); the limit is {MAX_SENTENCES}.")
    return lines


def check_model_name(name: str | None) -> str:
    """A hub id typed in the UI ("" = the bundled encoder). Local folders load only from
    Python (models.load_encoder(path)): a web visitor must not probe the server's disk."""
    name = (name or "").strip()
    if not name:
        return ""
    if len(name) > MAX_MODEL_NAME:
        raise ValueError(f"The model name has {len(name)} characters; the limit is {MAX_MODEL_NAME}.")
    if not HUB_ID.match(name) or is_dir(name):
        raise ValueError(
            f"{name!r} is not a hub model id like 'owner/name' (letters, digits, '-', '_', '.'). "
            "Local folders load only from Python: models.load_encoder(path)."
        )
    return name


# Translation: the model read captions of up to 44 subwords in training; longer input is out of
# its range and its alignment heatmap unreadable.
MAX_SOURCE_TOKENS = 60  # English subwords, "</s>" included


def max_decoding_step(max_length_ratio: float) -> int:
    """The last decoding step (0-based) a translator can reach on the longest source allowed: it
    stops after max_length_ratio x source tokens + 10 (models/translator.py, models/transformer.py)."""
    return int(max_length_ratio * MAX_SOURCE_TOKENS + 10)


MAX_BEAM = 8


def check_source_tokens(n_tokens: int) -> None:
    if n_tokens > MAX_SOURCE_TOKENS:
        raise ValueError(
            f"The sentence has {n_tokens} subword tokens; the limit is {MAX_SOURCE_TOKENS}. "
            "The translator was trained on single image captions: translate one short sentence at a time."
        )


def check_translation(text: str, beam_size, translator) -> tuple[str, int, tuple]:
    """Check one translation request: its text on one line, its beam size, and its source as the
    translator encodes it (tokenized once, checked, and translated from); any translator with
    encode_source (models.decoding.SubwordTranslator). Raises ValueError on bad input."""
    k = check_beam_size(beam_size)
    text = " ".join(clean_text(text, "The sentence").split())  # newlines and tabs: the captions are one line
    source = translator.encode_source(text)
    check_source_tokens(len(source[0]))
    if len(source[0]) == 1 or not text:
        raise ValueError("The sentence has no tokens to translate: type some words.")
    return text, k, source


def check_whole(value, low: int, high: int, what: str) -> int:
    """A slider value from the API: a whole number in [low, high], else a clear message."""
    try:
        k = int(float(value))
        whole = k == float(value)
    except (TypeError, ValueError, OverflowError):  # None, "three", inf
        k, whole = 0, False
    if not whole or not low <= k <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, got {str(value)[:40]!r}.")
    return k


def check_number(value, low: float, high: float, what: str) -> float:
    """A number from a box or the API in [low, high], else a clear message."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        x = float("nan")
    if isinstance(value, bool) or not low <= x <= high:  # nan fails both
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}, got {str(value)[:40]!r}.")
    return x


def check_beam_size(beam_size) -> int:
    return check_whole(beam_size, 1, MAX_BEAM, "beam_size")


def check_top_k(k) -> int:
    return check_whole(k, 3, MAX_TOP_TAGS, "k")


def input_label(
    what: str,
    *,
    lines: bool = False,
    tokens: bool = False,
    pieces: int = 0,
    subwords: bool = False,
    optional: bool = False,
) -> dict:
    """label + max_length for a text box, so every box states its limits the same way and the
    browser already stops typing at MAX_CHARS (the server checks again: the API has no box)."""
    limits = []
    if lines:
        limits.append(f"1–{MAX_SENTENCES} lines")
    if tokens:
        limits.append(f"≤ {MAX_TOKENS} tokens" + (" per line" if lines else ""))
    if pieces:
        limits.append(f"≤ {pieces} word pieces")
    if subwords:
        limits.append(f"≤ {MAX_SOURCE_TOKENS} subword tokens")
    limits.append(f"≤ {MAX_CHARS} characters")
    return {"label": f"{what} ({', '.join(limits)}{'; optional' if optional else ''})", "max_length": MAX_CHARS}
