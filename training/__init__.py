"""Training, evaluation and model-card CLIs, and the readers of the data sets in ../shared/data.

    python -m training.train_tagger          python -m training.train_translator --variant attention
    python -m training.train_nli             python -m training.eval_nli
    python -m training.nli_experiments       (NLI options that never shipped)
    python -m training.evaluate_translator

The networks they train live in models/ (one readable file per model); nothing here runs in the app.
"""
