"""Sentiment features: a supervised head on embeddings, and zero-shot scores."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skquant.datasets._financial_tweets import TWEET_LABELS, load_financial_tweets
from skquant.text._sentence import SentenceEmbedder, _as_texts

__all__ = ["SentimentFeatures", "ZeroShotSentiment", "DEFAULT_SENTIMENT_LABELS"]

#: Label descriptions ZeroShotSentiment uses by default (written before any
#: evaluation; each label's prototype is the mean of its descriptions).
DEFAULT_SENTIMENT_LABELS: dict[str, tuple[str, ...]] = {
    "bearish": (
        "bearish financial news",
        "the stock price falls",
        "shares drop after weak results, downgrade or losses",
    ),
    "bullish": (
        "bullish financial news",
        "the stock price rises",
        "shares jump after strong results, upgrade or gains",
    ),
    "neutral": (
        "neutral financial news",
        "a company announcement or market report",
        "news about the economy, markets and companies",
    ),
}


class _TextHeadMixin:
    """Shared plumbing: an embedder_ built from the ``embedder`` parameter."""

    def _make_embedder(self) -> SentenceEmbedder:
        if self.embedder is None:
            return SentenceEmbedder()
        return clone(self.embedder)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output feature names: ``<class name>_<label>``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; there is one text column.

        Returns
        -------
        numpy.ndarray of str
        """
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}_{c}" for c in self.classes_], dtype=object)

    def _finish(self, scores: np.ndarray, missing: np.ndarray) -> np.ndarray:
        if missing.any():
            scores[missing] = np.nan if self.embedder_.missing == "nan" else 0.0
        return scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags


class SentimentFeatures(_TextHeadMixin, TransformerMixin, BaseEstimator):
    """Bearish / bullish / neutral probabilities of texts, as features.

    A ready-made supervised sentiment model: a
    :class:`~skquant.text.SentenceEmbedder` followed by a classifier (by
    default a logistic regression) trained, at ``fit``, on the bundled
    financial news tweets (:func:`skquant.datasets.load_financial_tweets`,
    ``split="train"``). ``transform`` returns the class probabilities, one
    column per class, to use next to prices.

    ``fit`` ignores its ``X`` and ``y`` apart from checking ``X``: the
    training data are the tweets, so the transformer works inside a pipeline
    whose ``y`` is, say, a return. To train the same recipe on your own
    labelled texts, use the pipeline it is made of (see Notes).

    Parameters
    ----------
    embedder : SentenceEmbedder, default=None
        The text encoder; ``None`` means ``SentenceEmbedder()``
        (all-MiniLM-L6-v2). It is cloned at ``fit``. Pass one with
        ``cache="memory"`` (or a directory) to embed the training tweets only
        once per process (or once at all). With ``fine_tune`` set, the
        encoder is first fine-tuned on the same training tweets and labels.
    classifier : estimator with predict_proba, default=None
        Trained on the embeddings; ``None`` means
        ``LogisticRegression(C=3.0, max_iter=2000)``. It is cloned at ``fit``.
    n_train : int, default=None
        Train on a stratified sample of this many tweets (out of 9,543)
        instead of all of them: faster, a little less accurate.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``n_train`` sample.

    Attributes
    ----------
    embedder_ : SentenceEmbedder
        The fitted encoder.
    classifier_ : estimator
        The fitted classifier.
    classes_ : ndarray of str
        ``["bearish", "bullish", "neutral"]``, the order of the columns.
    n_features_in_ : int
        Always 1.

    See Also
    --------
    ZeroShotSentiment : Needs no labelled data.
    skquant.datasets.load_financial_tweets : The training data.

    Notes
    -----
    The recipe, for other labelled texts::

        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        model = make_pipeline(SentenceEmbedder(),
                              LogisticRegression(C=3.0, max_iter=2000))
        model.fit(texts, labels).predict_proba(new_texts)

    On the tweets' ``valid`` split it reaches 0.79 accuracy and 0.70 macro
    F1 with all-MiniLM-L6-v2 (a tuned TF-IDF + logistic regression: 0.83 and
    0.75; see ``benchmarks/bench_text.py``). With
    ``embedder=SentenceEmbedder(fine_tune="classification", random_state=0)``
    the encoder is first fine-tuned on the same tweets for one epoch (eight
    minutes on 2 CPUs); the benchmark's run of that recipe reached 0.86 and
    0.82. Missing texts (see
    ``SentenceEmbedder``'s ``missing``) get all-zero rows (or NaN rows with
    ``missing="nan"``), not the classifier's guess.

    Examples
    --------
    >>> from skquant.text import SentimentFeatures
    >>> sentiment = SentimentFeatures(n_train=300, random_state=0).fit(["x"])
    >>> P = sentiment.transform(["Shares plunge after profit warning",
    ...                          "Stock soars to record high on strong earnings"])
    >>> sentiment.get_feature_names_out().tolist()
    ['sentimentfeatures_bearish', 'sentimentfeatures_bullish', \
'sentimentfeatures_neutral']
    >>> P.argmax(axis=1).tolist()  # bearish, then bullish
    [0, 1]
    """

    _parameter_constraints: dict = {
        "embedder": [HasMethods(["fit", "transform"]), None],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "n_train": [Interval(Integral, 3, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self, *, embedder=None, classifier=None, n_train=None, random_state=None
    ) -> None:
        self.embedder = embedder
        self.classifier = classifier
        self.n_train = n_train
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the classifier on the bundled tweets.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
            Only checked (it may be what ``transform`` will see).
        y : None
            Ignored; the labels are the tweets'.

        Returns
        -------
        self : SentimentFeatures
        """
        tweets = load_financial_tweets("train")
        texts, labels = tweets["text"], tweets["label"].to_numpy()
        if self.n_train is not None and self.n_train < len(tweets):
            texts, _, labels, _ = train_test_split(
                texts,
                labels,
                train_size=self.n_train,
                stratify=labels,
                random_state=self.random_state,
            )
        names = np.asarray(TWEET_LABELS, dtype=object)
        embedder = self._make_embedder()
        if getattr(embedder, "fine_tune", None) is not None:
            _, missing = _as_texts(X, owner=type(self).__name__)  # only checked
            embedder._check_missing(missing)
            self.embedder_ = embedder.fit(texts, names[labels])
        else:
            self.embedder_ = embedder.fit(X)
        E, _ = self.embedder_._embed(texts)
        classifier = (
            LogisticRegression(C=3.0, max_iter=2000)
            if self.classifier is None
            else clone(self.classifier)
        )
        self.classifier_ = classifier.fit(E, names[labels])
        self.classes_ = np.asarray(self.classifier_.classes_, dtype=object)
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> np.ndarray:
        """Class probabilities of the texts.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
            The texts.

        Returns
        -------
        numpy.ndarray of shape (n_texts, 3)
            Probabilities of ``classes_`` (bearish, bullish, neutral).
        """
        check_is_fitted(self)
        E, missing = self.embedder_._embed(X)
        P = self.classifier_.predict_proba(np.nan_to_num(E)).astype(np.float64)
        return self._finish(P, missing)


class ZeroShotSentiment(_TextHeadMixin, TransformerMixin, BaseEstimator):
    """Sentiment scores of texts from their similarity to label descriptions.

    Needs no labelled data: each label (``"bearish"``, ``"bullish"``,
    ``"neutral"`` by default) is described by one or more short texts; a
    text's score for a label is the cosine similarity between its embedding
    and the mean embedding of the label's descriptions. ``transform`` returns
    a softmax of those similarities (``output="proba"``) or the raw cosines.

    Parameters
    ----------
    labels : dict of str to (str or list of str), or list of str, default=None
        Label name to description(s). A list uses each string as both name and
        description. ``None`` uses ``DEFAULT_SENTIMENT_LABELS`` (bearish,
        bullish, neutral, three descriptions each).
    embedder : SentenceEmbedder, default=None
        The text encoder; ``None`` means ``SentenceEmbedder()``
        (all-MiniLM-L6-v2). Cloned at ``fit``.
    output : {"proba", "similarity"}, default="proba"
        ``"proba"``: ``softmax(cosine / temperature)``, rows sum to one;
        ``"similarity"``: the cosines themselves, in [-1, 1].
    temperature : float, default=0.05
        Softmax temperature for ``output="proba"``; smaller is sharper.

    Attributes
    ----------
    embedder_ : SentenceEmbedder
        The fitted encoder.
    classes_ : ndarray of str
        Label names, the order of the columns.
    label_embeddings_ : ndarray of shape (n_labels, embedding_dim)
        Unit-length prototype of each label.
    n_features_in_ : int
        Always 1.

    See Also
    --------
    SentimentFeatures : Supervised, more accurate on financial news.

    Notes
    -----
    Zero-shot scores from a small general-purpose encoder are weak on their
    own (``benchmarks/bench_text.py`` compares them with supervised
    heads); they are useful as extra features or when no labels exist.

    Examples
    --------
    >>> from skquant.text import ZeroShotSentiment
    >>> zs = ZeroShotSentiment(labels={"up": "the stock price rises",
    ...                                "down": "the stock price falls"})
    >>> P = zs.fit(["x"]).transform(["Shares soar to a record high",
    ...                              "Shares plunge to a record low"])
    >>> zs.classes_.tolist(), P.argmax(axis=1).tolist()
    (['up', 'down'], [0, 1])
    """

    _parameter_constraints: dict = {
        "labels": [dict, list, None],
        "embedder": [HasMethods(["fit", "transform"]), None],
        "output": [StrOptions({"proba", "similarity"})],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self, labels=None, *, embedder=None, output="proba", temperature=0.05
    ) -> None:
        self.labels = labels
        self.embedder = embedder
        self.output = output
        self.temperature = temperature

    def _label_descriptions(self) -> dict[str, list[str]]:
        labels = DEFAULT_SENTIMENT_LABELS if self.labels is None else self.labels
        if isinstance(labels, list):
            labels = {str(name): name for name in labels}
        out = {}
        for name, desc in labels.items():
            descs = [desc] if isinstance(desc, str) else list(desc)
            if not descs or not all(isinstance(d, str) and d.strip() for d in descs):
                raise ValueError(
                    f"label {name!r} needs one or more non-empty description "
                    f"strings; got {desc!r}"
                )
            out[str(name)] = descs
        if len(out) < 2:
            raise ValueError(f"ZeroShotSentiment needs at least 2 labels; got {out}")
        return out

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Embed the label descriptions.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
            Only checked.
        y : None
            Ignored.

        Returns
        -------
        self : ZeroShotSentiment
        """
        descriptions = self._label_descriptions()
        self.embedder_ = self._make_embedder().fit(X)
        protos = []
        for descs in descriptions.values():
            E, _ = self.embedder_._embed(descs)
            E = E / np.linalg.norm(E, axis=1, keepdims=True)
            proto = E.mean(axis=0)
            protos.append(proto / np.linalg.norm(proto))
        self.label_embeddings_ = np.vstack(protos).astype(np.float32)
        self.classes_ = np.asarray(list(descriptions), dtype=object)
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> np.ndarray:
        """Score the texts against every label.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
            The texts.

        Returns
        -------
        numpy.ndarray of shape (n_texts, n_labels)
            Probabilities or cosine similarities, in the order of ``classes_``.
        """
        check_is_fitted(self)
        E, missing = self.embedder_._embed(X)
        E = np.nan_to_num(E).astype(np.float64)
        norms = np.linalg.norm(E, axis=1, keepdims=True)
        S = (E / np.where(norms > 0, norms, 1.0)) @ self.label_embeddings_.T
        if self.output == "proba":
            Z = S / self.temperature
            Z = np.exp(Z - Z.max(axis=1, keepdims=True))
            S = Z / Z.sum(axis=1, keepdims=True)
        return self._finish(S, missing)
