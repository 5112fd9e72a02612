"""Tiny random-weight models, so views are tested without bundled weights (LIT's testing_utils)."""
from __future__ import annotations

import torch

from models.tagger import BiLSTMTagger, Tagger, TaggerConfig
from models.text import Vocab

UPOS_TAGS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
             "SCONJ", "SYM", "VERB", "X"]
SENTENCES = [["The", "cat", "sat", "on", "the", "mat", "."], ["Hi", "there"], ["a", "much", "longer", "sentence", "here", "."]]


def tiny_tagger(seed: int = 0) -> Tagger:
    """A 2-layer BiLSTM tagger with 16 hidden units and no MiniLM pieces, random weights."""
    torch.manual_seed(seed)
    words = Vocab.build([[w.lower() for w in s] for s in SENTENCES])
    chars = Vocab.build([c for w in s for c in w] for s in SENTENCES)
    config = TaggerConfig(n_words=len(words), n_chars=len(chars), n_tags=len(UPOS_TAGS), word_dim=8, char_dim=4,
                          char_filters=8, piece_dim=0, hidden=16, layers=2, dropout=0.0)
    return Tagger(BiLSTMTagger(config), words, chars, UPOS_TAGS, None, torch.device("cpu"))


PAIRS = [("A man rides a bike.", "Ein Mann fährt Fahrrad."), ("Two dogs play in the snow.", "Zwei Hunde spielen im Schnee."),
         ("A woman sings on a stage.", "Eine Frau singt auf einer Bühne."), ("The children run.", "Die Kinder rennen.")]


def tiny_translator(attention: bool = True, seed: int = 0):
    """A GRU encoder-decoder with 8-16 units and BPE vocabularies from four sentence pairs, random weights."""
    from models.multi30k import train_bpe
    from models.translator import Seq2Seq, Translator, TranslatorConfig

    torch.manual_seed(seed)
    source = train_bpe([e for e, _ in PAIRS], 80, min_frequency=1)
    target = train_bpe([d for _, d in PAIRS], 80, min_frequency=1)
    config = TranslatorConfig(n_source=source.get_vocab_size(), n_target=target.get_vocab_size(), attention=attention,
                              emb_dim=8, enc_hidden=8, dec_hidden=16, attn_dim=8, dropout=0.0)
    return Translator(Seq2Seq(config), source, target, torch.device("cpu"), "attention" if attention else "no_attention")
