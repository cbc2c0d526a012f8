"""The LSTM sentiment classifier: tokenizer, vocabulary, model, training, evaluation, checkpoints."""
