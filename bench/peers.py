"""The peers every model is judged beside in the same run: TF-IDF + logistic regression, and VADER."""

from __future__ import annotations

from sentiment_model.data import LabelledText
from sentiment_model.evaluate import metrics


def fit_tfidf_lr(train: LabelledText, select: LabelledText, labels: list[str], chars: bool = False):
    """TF-IDF (word 1-2 grams, sublinear tf; with `chars` also character 2-5-grams within words) + logistic
    regression, C picked on the selection split by macro-F1.

    Returns predict(texts, among) -> labels: each text's most probable class among `among`.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000)
    if chars:  # the n-grams that carry a word's parts: what reads morphology and words never seen whole
        vectorizer = FeatureUnion(
            [
                ("words", vectorizer),
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=300_000
                    ),
                ),
            ]
        )
    x_train = vectorizer.fit_transform(train.texts)
    x_select = vectorizer.transform(select.texts)
    best = None
    for c in (0.5, 2.0, 8.0):
        clf = LogisticRegression(C=c, max_iter=2000).fit(x_train, train.labels)
        score = metrics(select.labels, list(clf.predict(x_select)), labels)["macro_f1"]
        if best is None or score > best[0]:
            best = (score, clf)
    clf = best[1]

    def predict(texts: list[str], among: list[str] | None = None) -> list[str]:
        probs = clf.predict_proba(vectorizer.transform(texts))
        classes = list(clf.classes_)
        among = [c for c in (among or classes) if c in classes]
        index = [classes.index(c) for c in among]
        return [among[i] for i in np.argmax(probs[:, index], axis=1)]

    predict.C = clf.C
    return predict


def tfidf_lr(train: LabelledText, select: LabelledText, judged: LabelledText, labels: list[str]) -> dict:
    """TF-IDF + logistic regression trained on `train`, judged on `judged`."""
    predict = fit_tfidf_lr(train, select, labels)
    return {**metrics(judged.labels, predict(judged.texts), labels), "C": predict.C}


def vader(judged: LabelledText, labels: list[str], binary: bool) -> dict | None:
    """VADER's compound score: >= 0.05 positive, <= -0.05 negative, else neutral (sign only without neutral)."""
    if not {"positive", "negative"} <= set(labels):
        return None  # emotions: VADER has no answer
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    three = "neutral" in labels
    predicted = []
    for text in judged.texts:
        compound = analyzer.polarity_scores(text)["compound"]
        if three:
            predicted.append("positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral")
        else:
            predicted.append("positive" if compound >= 0 else "negative")
    return metrics(judged.labels, predicted, labels)
