"""Tiny random-weight models, so views are tested without bundled weights (LIT's testing_utils)."""

from __future__ import annotations

import torch

from models.tagger import BiLSTMTagger, Tagger, TaggerConfig
from models.text import Vocab

UPOS_TAGS = [
    "ADJ",
    "ADP",
    "ADV",
    "AUX",
    "CCONJ",
    "DET",
    "INTJ",
    "NOUN",
    "NUM",
    "PART",
    "PRON",
    "PROPN",
    "PUNCT",
    "SCONJ",
    "SYM",
    "VERB",
    "X",
]
SENTENCES = [
    ["The", "cat", "sat", "on", "the", "mat", "."],
    ["Hi", "there"],
    ["a", "much", "longer", "sentence", "here", "."],
]


def tiny_tagger(seed: int = 0) -> Tagger:
    """A 2-layer BiLSTM tagger with 16 hidden units and no MiniLM pieces, random weights."""
    torch.manual_seed(seed)
    words = Vocab.build([[w.lower() for w in s] for s in SENTENCES])
    chars = Vocab.build([c for w in s for c in w] for s in SENTENCES)
    config = TaggerConfig(
        n_words=len(words),
        n_chars=len(chars),
        n_tags=len(UPOS_TAGS),
        word_dim=8,
        char_dim=4,
        char_filters=8,
        pretrained="",
        piece_dim=0,
        hidden=16,
        layers=2,
        dropout=0.0,
    )
    return Tagger(BiLSTMTagger(config), words, chars, UPOS_TAGS, None, torch.device("cpu"))


BERT_PIECES = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
    "un",
    "##fr",
    "##iend",
    "##ed",
    ".",
    ",",
    "<",
    ">",
    "/",
    "script",
    "img",
]


def tiny_bert_dir(directory, seed: int = 0):
    """Save a random 2-layer, 4-head BertModel (hidden 16) and its fast word-piece tokenizer
    to `directory` as safetensors + JSON, the way a hub checkpoint looks on disk."""
    from transformers import BertConfig, BertModel, BertTokenizer

    torch.manual_seed(seed)
    tokenizer = BertTokenizer(vocab={piece: i for i, piece in enumerate(BERT_PIECES)})
    config = BertConfig(
        vocab_size=len(BERT_PIECES),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    tokenizer.save_pretrained(directory)
    BertModel(config).save_pretrained(directory, safe_serialization=True)
    return directory


NLI_WORDS = [
    "a",
    "the",
    "man",
    "woman",
    "dog",
    "plays",
    "sleeps",
    "guitar",
    "music",
    "person",
    ".",
    "is",
    "red",
    "blue",
]


def tiny_nli(seed: int = 0, intra_attention: bool = False):
    """A decomposable-attention NLI model over an 8-dim made-up 'GloVe' table, 16 hidden units, random weights."""
    from models.nli import NLI, NLIConfig, NLIModel
    from models.nli_words import GloVeWords

    torch.manual_seed(seed)
    config = NLIConfig(
        representation="glove",
        minilm_layer=0,
        train_layers=0,
        hidden=16,
        dropout=0.0,
        intra_attention=intra_attention,
        glove_dim=8,
        glove_words=len(NLI_WORDS),
        glove_oov=4,
        projection=8,
    )
    words = GloVeWords(NLI_WORDS, torch.randn(len(NLI_WORDS), 8), n_oov=4, projection=8, seed=seed)
    return NLI(NLIModel(config, words), torch.device("cpu"))


PAIRS = [
    ("A man rides a bike.", "Ein Mann fährt Fahrrad."),
    ("Two dogs play in the snow.", "Zwei Hunde spielen im Schnee."),
    ("A woman sings on a stage.", "Eine Frau singt auf einer Bühne."),
    ("The children run.", "Die Kinder rennen."),
]


def tiny_translator(attention: bool = True, seed: int = 0):
    """A GRU encoder-decoder with 8-16 units and BPE vocabularies from four sentence pairs, random weights."""
    from models.translator import Seq2Seq, Translator, TranslatorConfig
    from training.multi30k import train_bpe

    torch.manual_seed(seed)
    source = train_bpe([e for e, _ in PAIRS], 80, min_frequency=1)
    target = train_bpe([d for _, d in PAIRS], 80, min_frequency=1)
    config = TranslatorConfig(
        n_source=source.get_vocab_size(),
        n_target=target.get_vocab_size(),
        attention=attention,
        emb_dim=8,
        enc_hidden=8,
        dec_hidden=16,
        attn_dim=8,
        dropout=0.0,
    )
    return Translator(
        Seq2Seq(config), source, target, torch.device("cpu"), "attention" if attention else "no_attention"
    )


def tiny_embeddings(encoder):
    """The Lesson's input embeddings over a tiny encoder (models.encoder.Encoder, e.g. from tiny_bert_dir)."""
    from types import SimpleNamespace

    from models.embeddings import InputEmbeddings

    return InputEmbeddings(SimpleNamespace(bert=encoder.model, tokenizer=encoder.tokenizer.backend_tokenizer))


def tiny_transformer(seed: int = 0):
    """A 2+2-layer Transformer with d_model 16, 2 heads and one BPE of the four pairs, random weights."""
    from models.transformer import Transformer, TransformerConfig, TransformerTranslator
    from training.multi30k import train_bpe

    torch.manual_seed(seed)
    tokenizer = train_bpe([e for e, _ in PAIRS] + [d for _, d in PAIRS], 120, min_frequency=1)
    config = TransformerConfig(
        vocab=tokenizer.get_vocab_size(),
        d_model=16,
        heads=2,
        encoder_layers=2,
        decoder_layers=2,
        d_ff=32,
        dropout=0.0,
        attention_dropout=0.0,
        max_length_ratio=1.0,
    )
    return TransformerTranslator(Transformer(config), tokenizer, torch.device("cpu"))
