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
                          char_filters=8, pretrained="", piece_dim=0, hidden=16, layers=2, dropout=0.0)
    return Tagger(BiLSTMTagger(config), words, chars, UPOS_TAGS, None, torch.device("cpu"))


NLI_WORDS = ["a", "the", "man", "woman", "dog", "plays", "sleeps", "guitar", "music", "person", ".", "is", "red", "blue"]


def tiny_nli(seed: int = 0, intra_attention: bool = False):
    """A decomposable-attention NLI model over an 8-dim made-up 'GloVe' table, 16 hidden units, random weights."""
    from models.nli import NLI, NLIConfig, NLIModel
    from models.nli_words import GloVeWords

    torch.manual_seed(seed)
    config = NLIConfig(representation="glove", minilm_layer=0, train_layers=0, hidden=16, dropout=0.0,
                       intra_attention=intra_attention, glove_dim=8, glove_words=len(NLI_WORDS), glove_oov=4, projection=8)
    words = GloVeWords(NLI_WORDS, torch.randn(len(NLI_WORDS), 8), n_oov=4, projection=8, seed=seed)
    return NLI(NLIModel(config, words), torch.device("cpu"))
