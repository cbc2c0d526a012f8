"""The accuracy benchmark's tasks: what each trains on, what it is judged on, targets and published anchors.

Every path is relative to the datasets directory (SENTIMENT_DATA_DIR). `select` is the
labelled data that picks the best epoch (early stopping); it is never the judged split:
  sst2      selects on its labelled test split and is judged on validation
  imdb, nlp_text_emotion  have no validation split: 10% of train is held out
  tweeteval has no train split: trained on the labelled data we do have (airline and
            financial three-way, the emotion tweets mapped to polarity), and its validation
            split is cut in two (a stratified quarter selects, the rest trains)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sentiment_model.general_mix import EMOTION_POLARITY  # emotions as polarity: the emotion tweets train three-way

HELD_OUT = "held-out"  # `select`: a stratified 10% of the training rows


@dataclass(frozen=True)
class Task:
    name: str
    train: tuple[str, ...]  # Parquet files whose rows are concatenated for training
    select: str  # a Parquet file, or HELD_OUT
    judge: str  # the evaluation split the table reports
    metrics: tuple[str, ...]  # the task's metric(s), first is the headline
    targets: dict[str, float]  # metric -> target
    anchors: dict[str, float] = field(default_factory=dict)  # published/measured reference -> headline metric
    binary_vader: bool = True  # VADER's compound sign when there is no neutral class
    train_overrides: dict = field(default_factory=dict)  # settings that differ from the automatic recipe
    relabel: dict[str, dict[str, str]] = field(default_factory=dict)  # train file -> {its label: task label}


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            "sst2",
            ("sst2/train.parquet",),
            "sst2/test.parquet",
            "sst2/validation.parquet",
            ("accuracy",),
            {"accuracy": 0.880},
            {"LSTM (Tai et al. 2015)": 0.849, "BiLSTM (Tai et al. 2015)": 0.875, "Tree-LSTM (Tai et al. 2015)": 0.880},
        ),
        Task(
            "imdb",
            ("imdb/train.parquet",),
            HELD_OUT,
            "imdb/test.parquet",
            ("accuracy",),
            {"accuracy": 0.920},
            {
                "random-init LSTM (Dai & Le 2015)": 0.865,
                "NBSVM (Wang & Manning 2012)": 0.912,
                "SA-LSTM (Dai & Le 2015)": 0.928,
            },
        ),
        Task(
            "airline_tweets",
            ("airline_tweets/train.parquet",),
            "airline_tweets/validation.parquet",
            "airline_tweets/test.parquet",
            ("accuracy", "macro_f1"),
            {"accuracy": 0.84, "macro_f1": 0.79},
        ),
        Task(
            "tweeteval_sentiment",
            (
                "airline_tweets/train.parquet",
                "financial_phrasebank_50agree/train.parquet",
                "nlp_text_emotion/train.parquet",
                "tweeteval_sentiment/validation.parquet",
            ),
            "tweeteval_sentiment/validation.parquet",
            "tweeteval_sentiment/test.parquet",
            ("macro_recall",),
            {"macro_recall": 0.629},
            {
                "LSTM, 45k train (Barbieri et al. 2020)": 0.583,
                "FastText, 45k train": 0.629,
                "RoBERTa-base, 45k train": 0.713,
            },
            train_overrides={"class_weights": True, "select_metric": "macro_recall"},
            relabel={"nlp_text_emotion/train.parquet": EMOTION_POLARITY},
        ),
        Task(
            "nlp_text_emotion",
            ("nlp_text_emotion/train.parquet",),
            HELD_OUT,
            "nlp_text_emotion/test.parquet",
            ("macro_f1",),
            {"macro_f1": 0.780},
            {"LSTM + fastText": 0.740, "BiLSTM + fastText": 0.741, "CNN + fastText": 0.758, "BERT": 0.832},
        ),
        Task(
            "financial_phrasebank_allagree",
            ("financial_phrasebank_allagree/train.parquet",),
            "financial_phrasebank_allagree/validation.parquet",
            "financial_phrasebank_allagree/test.parquet",
            ("accuracy",),
            {"accuracy": 0.90},
            {"LSTM (Araci 2019)": 0.81, "LSTM + ELMo": 0.84, "ULMFiT": 0.93},
        ),
    )
}
