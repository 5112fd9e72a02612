"""The Transformer view: encoder, decoder and cross-attention of the trained English -> German
Transformer, its alignment beside the GRU's, and how the alignment grew during training."""
