"""What a newcomer trips over in the first ten minutes (issue 16), each checked where it is
decided: colours, titles, counts, the top-k slider, notes on what a model does not know, the
masked loss on one's own sentences, timings with their spread, toasts and stale outputs."""

from __future__ import annotations

import time

import numpy as np
import pytest

from explorer.core import figures as fg
from explorer.views import tagging, translation
from explorer.views.batching import analysis as batching
from explorer.views.nli import analysis as nli
from explorer.views.self_attention import analysis as self_attention


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    from models import load_encoder

    from fakes import tiny_bert_dir

    return load_encoder(str(tiny_bert_dir(tmp_path_factory.mktemp("tiny-bert"))))


def test_tag_label_colours_are_readable():
    """Each tag's name is drawn in white on its colour: contrast of at least 4.5:1 (WCAG AA)."""
    assert set(tagging.COLORS) == set(tagging.UPOS)
    for tag, colour in tagging.COLORS.items():
        assert contrast("#ffffff", colour) >= 4.5, (tag, colour, contrast("#ffffff", colour))


def specs(answer: dict) -> list[dict]:
    return [v for v in answer.values() if isinstance(v, dict) and "layout" in v]


def test_no_title_runs_under_the_mode_bar(tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder):
    answers = [
        batching.show(batching.example_batch(), tagger=tiny_tagger),
        tagging.show("The cat sat on the mat .", 8, tagger=tiny_tagger),
        translation.show("A man rides a bike.", 2, translator=tiny_translator, baseline=tiny_baseline),
        self_attention.show("the cat sat.", "", "", False, 1, 1, encoder=tiny_encoder),
        nli.show("A man plays the guitar.", "A person makes music.", nli=tiny_nli),
    ]
    figures = [spec for answer in answers for spec in specs(answer)] + [translation.bleu_by_length_figure()]
    assert len(figures) >= 15
    for spec in filter(None, figures):
        layout = spec["layout"]
        assert layout["modebar"]["orientation"] == "v", layout.get("title")
        assert layout["margin"]["r"] >= 36, layout.get("title")


def test_the_top_k_slider_sets_the_number_of_columns(tiny_tagger):
    r = tagging.analyze("The cat sat on the mat while a dog barked loudly at 7 pm !", tiny_tagger)
    for k in (3, 5, 17):
        assert len(tagging.figures(r, k)["probs"]["layout"]["xaxis"]["ticktext"]) == k


def test_text_in_another_script_gets_a_note_that_the_tagger_knows_english(tiny_tagger):
    assert tagging.ENGLISH_ONLY in tagging.show("猫がマットの上に座った 我爱 猫", 8, tagger=tiny_tagger)["status"]
    assert tagging.ENGLISH_ONLY not in tagging.show("The café was naïve.", 8, tagger=tiny_tagger)["status"]


def test_counts_read_in_the_right_number(tiny_tagger, tiny_nli):
    assert tagging.show("Hi", 8, tagger=tiny_tagger)["status"].startswith("1 token tagged")
    summary = batching.show("Hi", tagger=tiny_tagger)["summary"]
    assert "B = 1 sentence," in summary and "in 1 row" in summary and "1 sentences" not in summary
    assert "1 premise word × 1 hypothesis word " in nli.show("Dogs", "Cats", nli=tiny_nli)["status"]


def test_nli_weight_maps_are_coloured_over_their_own_range(tiny_nli):
    answer = nli.show("A man plays the guitar on a stage.", "A person makes music.", nli=tiny_nli)
    r = answer["result"]
    for name, weights in (("beta", r.inferred.premise_to_hypothesis), ("alpha", r.inferred.hypothesis_to_premise)):
        trace, title = answer[name]["data"][0], answer[name]["layout"]["title"]["text"]
        assert trace["zmin"] == pytest.approx(weights.min()) and trace["zmax"] == pytest.approx(weights.max())
        assert f"{weights.min():.2f}–{weights.max():.2f}" in title


def test_nli_example_labels_are_short_and_distinct():
    labels = [label for _, label in nli.examples()]
    assert len(set(labels)) == len(labels) and all(len(label) <= 48 for label in labels), labels
    assert any(label.startswith("✗") for label in labels)  # the failures are there, and marked


def test_the_block_mask_shows_the_row_that_packs_the_most_sentences(tiny_tagger):
    text = "a b c d e f g h\na b\nc d\ne f\ng h"  # row 0 holds the long sentence alone
    answer = batching.show(text, tagger=tiny_tagger)
    a = answer["result"]
    assert answer["row"] == batching.fullest_row(a.packing) != 0
    assert "4 blocks" in answer["block_mask"]["layout"]["title"]["text"]
    assert "1 block," in batching.show_row(a, 0)["block_mask"]["layout"]["title"]["text"]
    with pytest.raises(ValueError, match="row must be a whole number from 0 to 1"):
        batching.show_row(a, 7)


def test_gold_tags_typed_inline_give_the_masked_loss(tiny_tagger):
    answer = batching.show("dogs/NOUN bark/VERB\nthe/DET cat/NOUN sleeps/VERB ./PUNCT", tagger=tiny_tagger)
    a = answer["result"]
    assert a.layout.tokens == [["dogs", "bark"], ["the", "cat", "sleeps", "."]]
    assert a.gold_tags == [["NOUN", "VERB"], ["DET", "NOUN", "VERB", "PUNCT"]]
    assert a.loss is not None and answer["loss"]["data"] and "masked mean" in answer["summary"]


def test_the_loss_frame_says_what_it_needs(tiny_tagger):
    answer = batching.show("my own sentence\nanother one", tagger=tiny_tagger)
    frame = answer["loss"]
    assert not frame["data"] and "dogs/NOUN bark/VERB" in frame["layout"]["annotations"][0]["text"]


def test_unknown_word_ids_are_explained(tiny_tagger):
    summary = batching.show("the cat sat\nzyzzyva blorp", tagger=tiny_tagger)["summary"]
    assert "id 1 = unknown word" in summary and "zyzzyva" in summary


def test_timings_come_with_their_spread_and_a_busy_machine_is_named(tiny_tagger):
    cost = batching.packing_cost("the cat sat\nhi there", tiny_tagger, repeats=5)
    for name, (low, high) in cost.spread.items():
        assert low <= getattr(cost, f"{name}_ms") <= high
    text = batching.cost_markdown(cost)
    assert "min–max" in text and text.count("–") >= 4
    from dataclasses import replace

    busy = replace(cost, spread={**cost.spread, "packed_forward_backward": (12.0, 232.0)})
    assert "machine was busy" in batching.cost_markdown(busy) and "not a fair comparison" in batching.cost_markdown(
        busy
    )


def test_a_word_the_tokenizer_gives_up_on_is_named(tiny_encoder):
    status = self_attention.show("the " + "a" * 600 + " cat", "", "", False, 1, 1, encoder=tiny_encoder)["status"]
    assert "[UNK]" in status and "600 characters" in status


def test_a_live_input_problem_clears_the_outputs_and_raises_no_toast(monkeypatch):
    import gradio as gr

    from explorer.web.ui import live

    toasts = []
    monkeypatch.setattr(gr, "Warning", lambda *a, **k: toasts.append(a))
    status, plot, table = gr.Markdown(), gr.Plot(), gr.Dataframe()

    def refuse(text):
        raise gr.Error("The text is empty: type a sentence.")

    answer = live(refuse, status, [status, plot, table])("")
    assert answer == {status: "⚠️ The text is empty: type a sentence.", plot: None, table: None} and toasts == []


def test_the_first_answer_reports_the_analysis_not_the_model_load(tiny_tagger):
    """A model that takes 1.5 s to load: the answer says milliseconds of tagging, not 1500."""
    from explorer.web.ui import endpoint
    from models.runtime import ModelSpec, Runtime

    def slow_load(device):
        time.sleep(1.5)
        return tiny_tagger

    runtime = Runtime({"tagger": ModelSpec(name="tagger", load=slow_load)})
    outputs = {"status": "status"}
    started = time.perf_counter()
    status = endpoint(runtime, {"tagger": "tagger"}, tagging.show, outputs)("The cat sat .", 8)["status"]
    assert time.perf_counter() - started >= 1.5
    ms = float(status.split(" in ")[1].split(" ms")[0])
    assert ms < 1000, status


def test_every_view_has_examples_and_translation_examples_are_captions():
    assert all(isinstance(e, str) and e.endswith(".") for e in translation.EXAMPLES)
    assert "igloo" not in " ".join(translation.EXAMPLES)
    assert "image captions" in translation.DOMAIN_NOTE


@pytest.mark.bundled
def test_the_bundled_translator_handles_its_examples():
    """Every example comes out as a plain German sentence: no stray quote marks, no <unk>, one final stop."""
    from models import load_translator

    translator = load_translator()
    for sentence in translation.EXAMPLES:
        german = translator.translate(sentence, beam_size=1).text
        assert german.endswith(".") and german.count(".") == 1 and not set('„“"<>') & set(german), (sentence, german)


def test_no_figure_is_drawn_on_a_zero_scale():
    assert np.isfinite(nli.own_range(np.full((2, 2), 0.5))).all()
    assert fg.message("x")["layout"]["annotations"][0]["text"] == "x"
