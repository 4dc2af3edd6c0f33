"""ModelSelector: the seed decision tree as a scikit-learn meta-estimator.

The module holds the tree itself (data characteristics, the six rules, the
printable decision path), the default estimator of each leaf, and the
:class:`ModelSelector` that detects the characteristics, walks the tree (or
cross-validates the rule's leaf and its neighbours) and fits the choice.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import FitFailedWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import KFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    UNUSED,
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    check_X_y,
    has_fit_parameter,
    validate_data,
)

from skquant._panel import get_dates, is_panel
from skquant.model_selection._split import DateSplit

__all__ = [
    "DataCharacteristics",
    "DecisionPath",
    "DecisionStep",
    "ModelSelector",
]

# Leaf name (the ModelSelector parameter) -> the essay's label.
_LEAF_LABELS: dict[str, str] = {
    "lightgbm": "LightGBM + SHAP",
    "linear": "Linear model",
    "alstm": "LSTM/GRU + attention (ALSTM)",
    "dnn": "Deep neural network (MLP)",
    "text_finetune": "LLM fine-tuning + ensemble",
    "text_features": "LLM feature extraction + ML",
    "transformer": "Transformer-based model",
    "low_latency": "LightGBM or linear model",
    "ensemble": "Ensemble of several approaches",
}
_LEAVES = tuple(_LEAF_LABELS)

_LAYOUT_NAME = re.compile(r"^(?P<feature>.+?)(?:_lag)?(?P<lag>\d+)$")


def _sequence_layout(columns) -> tuple[int, int] | None:
    """``(d_feat, n_steps)`` when the column names form a feature-major sequence.

    Recognises Alpha360's ``CLOSE59 .. CLOSE0, OPEN59 .. OPEN0, ...`` and
    :class:`~skquant.features.SequenceWindower`'s ``f_lag19 .. f_lag0, ...``:
    every feature has the lags ``T-1`` down to ``0`` (``T >= 2``), in that
    order, one block per feature.
    """
    names = [str(c) for c in columns]
    if len(names) < 2:
        return None
    features: list[str] = []
    lags: list[list[int]] = []
    for name in names:
        match = _LAYOUT_NAME.match(name)
        if match is None:
            return None
        feature, lag = match["feature"], int(match["lag"])
        if not features or features[-1] != feature:
            if feature in features:  # a feature's block is split: not a layout
                return None
            features.append(feature)
            lags.append([])
        lags[-1].append(lag)
    n_steps = len(lags[0])
    expected = list(range(n_steps - 1, -1, -1))
    if n_steps < 2 or any(block != expected for block in lags):
        return None
    return len(features), n_steps


@dataclass(frozen=True)
class DataCharacteristics:
    """What :class:`~skquant.model_selection.ModelSelector` found in the data.

    Each rule of the decision tree reads one of these; ``print`` gives a
    summary. Found in ``ModelSelector.characteristics_``.

    Attributes
    ----------
    n_samples : int
        Rows of ``X``.
    sample_size : int
        The size rule 1 compares with the threshold (``n_samples`` unless
        overridden).
    small_data_threshold : int
        Rule 1's threshold.
    data_type : {"pure_numeric", "with_text", "mixed"}
        Rule 2's and 3's input: only numbers; text columns; or other
        non-numeric (categorical) columns without text.
    numeric_columns, text_columns, categorical_columns : tuple
        The columns of each kind (names, or positions for arrays).
    native_categorical : bool
        Whether the categorical columns are pandas categories (LightGBM reads
        them as such) rather than strings declared not to be text.
    temporal : bool
        Rule 2's test.
    d_feat, n_steps : int or None
        The sequence layout of the numeric columns, when there is one.
    is_panel : bool
        Whether ``X`` is indexed by ``(datetime, instrument)``.
    n_dates : int or None
        Distinct dates of the rows, when known.
    instruments_per_date : float or None
        Median number of rows per date, when the dates are known.
    complex_relations : bool
        Rule 4's test.
    relations_shape : tuple or None
        Shape of the relation matrix, when given.
    sources : dict
        Per characteristic, what it was detected from or that it was
        overridden.
    small_data : bool
        Rule 1's test (property).
    has_text : bool
        Rule 3's test (property).
    """

    n_samples: int
    sample_size: int
    small_data_threshold: int
    data_type: str
    numeric_columns: tuple = ()
    text_columns: tuple = ()
    categorical_columns: tuple = ()
    native_categorical: bool = True
    temporal: bool = False
    d_feat: int | None = None
    n_steps: int | None = None
    is_panel: bool = False
    n_dates: int | None = None
    instruments_per_date: float | None = None
    complex_relations: bool = False
    relations_shape: tuple | None = None
    sources: dict = field(default_factory=dict)

    @property
    def small_data(self) -> bool:
        """Rule 1's test: ``sample_size < small_data_threshold``."""
        return self.sample_size < self.small_data_threshold

    @property
    def has_text(self) -> bool:
        """Rule 3's test: at least one column holds text."""
        return self.data_type == "with_text"

    def as_dict(self) -> dict:
        """The characteristics as a plain dict.

        Returns
        -------
        dict
            Every attribute, ``small_data`` and ``has_text`` included.
        """
        out = asdict(self)
        out["small_data"] = self.small_data
        out["has_text"] = self.has_text
        return out

    def __str__(self) -> str:
        rows = [
            (
                "sample_size",
                f"{self.sample_size:,} (threshold {self.small_data_threshold:,})",
            ),
            ("data_type", self.data_type),
            ("temporal", self.temporal),
            ("complex_relations", self.complex_relations),
        ]
        if self.d_feat is not None:
            rows.append(
                ("sequence layout", f"d_feat={self.d_feat} x {self.n_steps} steps")
            )
        if self.text_columns:
            rows.append(("text columns", list(self.text_columns)))
        if self.categorical_columns:
            rows.append(("categorical columns", list(self.categorical_columns)))
        lines = []
        for key, value in rows:
            source = self.sources.get(key.split(" ")[0], "")
            lines.append(f"{key}: {value}" + (f"  [{source}]" if source else ""))
        return "\n".join(lines)


@dataclass(frozen=True)
class DecisionStep:
    """One rule of the tree as evaluated: its test, what was seen, the outcome.

    Attributes
    ----------
    rule : int or str
        1 to 6 for the tree's rules; ``"cv"`` for the cross-validated choice;
        ``"note"`` for a remark about the chosen leaf.
    test : str
        The rule's condition, as in the tree.
    observed : str
        The value the condition was evaluated on.
    matched : bool or None
        Whether the rule applied (None for notes).
    leaf : str or None
        The leaf the rule returned, when it matched.
    detail : str
        The inner branch taken, or the note's text.
    """

    rule: int | str
    test: str
    observed: str
    matched: bool | None
    leaf: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        if self.rule == "note":
            return f"   note: {self.detail}"
        if self.rule == "cv":
            return f"   cv: {self.detail}"
        verdict = "yes" if self.matched else "no"
        lines = [f"{self.rule}. {self.test} [{self.observed}] -> {verdict}"]
        if self.detail:
            lines.append(f"   {self.detail}")
        if self.leaf is not None:
            lines.append(f"   => {self.leaf}: {_LEAF_LABELS[self.leaf]}")
        return "\n".join(lines)


class DecisionPath(tuple):
    """The rules evaluated, in order, with their outcomes; ``print`` shows them.

    A tuple of :class:`DecisionStep`: the rules tried (the last one matched),
    then, with ``strategy="cv"``, the cross-validated choice, then notes on
    the chosen leaf. Found in ``ModelSelector.decision_path_``.

    Examples
    --------
    >>> from skquant.model_selection import DecisionPath, DecisionStep
    >>> path = DecisionPath([DecisionStep(1, "sample_size < 10,000",
    ...                                   "sample_size=500", True, "linear")])
    >>> print(path)
    1. sample_size < 10,000 [sample_size=500] -> yes
       => linear: Linear model
    >>> path.leaf
    'linear'
    """

    __slots__ = ()

    def __str__(self) -> str:
        return "\n".join(str(step) for step in self)

    def __repr__(self) -> str:
        return f"DecisionPath(\n{self}\n)"

    @property
    def leaf(self) -> str | None:
        """The leaf of the last rule that matched (None if none did)."""
        for step in reversed(self):
            if isinstance(step.rule, int) and step.matched:
                return step.leaf
        return None

    def to_frame(self) -> pd.DataFrame:
        """The steps as a table.

        Returns
        -------
        pandas.DataFrame
            One row per step, columns ``rule, test, observed, matched, leaf,
            detail``.
        """
        return pd.DataFrame([asdict(step) for step in self])


def _walk_tree(
    chars: DataCharacteristics,
    *,
    interpretability: str,
    performance: str,
    latency: str,
    start: int = 1,
) -> tuple[str, list[DecisionStep]]:
    """Apply the rules from ``start`` on; the first that matches gives the leaf.

    Returns the leaf name and the steps evaluated.
    """
    steps: list[DecisionStep] = []
    src = chars.sources

    def note(key):
        return f" ({src[key]})" if key in src else ""

    if start <= 1:
        test = f"sample_size < {chars.small_data_threshold:,}"
        observed = f"sample_size={chars.sample_size:,}{note('sample_size')}"
        if chars.small_data:
            high = interpretability == "high"
            leaf = "lightgbm" if high else "linear"
            detail = f"interpretability == 'high' [{interpretability!r}] -> " + (
                "yes" if high else "no"
            )
            steps.append(DecisionStep(1, test, observed, True, leaf, detail))
            return leaf, steps
        steps.append(DecisionStep(1, test, observed, False))
    if start <= 2:
        test = "data_type == 'pure_numeric'"
        observed = f"data_type={chars.data_type!r}{note('data_type')}"
        if chars.data_type == "pure_numeric":
            leaf = "alstm" if chars.temporal else "dnn"
            detail = f"temporal [{chars.temporal}{note('temporal')}] -> " + (
                "yes" if chars.temporal else "no"
            )
            steps.append(DecisionStep(2, test, observed, True, leaf, detail))
            return leaf, steps
        steps.append(DecisionStep(2, test, observed, False))
    if start <= 3:
        test = "has_text"
        observed = f"has_text={chars.has_text}{note('has_text')}"
        if chars.has_text:
            highest = performance == "highest"
            leaf = "text_finetune" if highest else "text_features"
            detail = f"performance == 'highest' [{performance!r}] -> " + (
                "yes" if highest else "no"
            )
            steps.append(DecisionStep(3, test, observed, True, leaf, detail))
            return leaf, steps
        steps.append(DecisionStep(3, test, observed, False))
    if start <= 4:
        test = "complex_relations"
        observed = (
            f"complex_relations={chars.complex_relations}{note('complex_relations')}"
        )
        if chars.complex_relations:
            steps.append(DecisionStep(4, test, observed, True, "transformer"))
            return "transformer", steps
        steps.append(DecisionStep(4, test, observed, False))
    if start <= 5:
        test = "latency == 'very_low'"
        observed = f"latency={latency!r}"
        if latency == "very_low":
            steps.append(DecisionStep(5, test, observed, True, "low_latency"))
            return "low_latency", steps
        steps.append(DecisionStep(5, test, observed, False))
    steps.append(DecisionStep(6, "otherwise", "-", True, "ensemble"))
    return "ensemble", steps


_SIBLINGS = {
    "lightgbm": ("linear",),
    "linear": ("lightgbm",),
    "alstm": ("dnn",),
    "dnn": (),  # ALSTM needs temporal structure, which rule 2 found absent
    "text_finetune": ("text_features",),
    "text_features": ("text_finetune",),
    "transformer": (),
    "low_latency": ("linear",),
    "ensemble": ("low_latency", "linear", "dnn"),
}
_RULE_OF = {
    "lightgbm": 1,
    "linear": 1,
    "alstm": 2,
    "dnn": 2,
    "text_finetune": 3,
    "text_features": 3,
    "transformer": 4,
    "low_latency": 5,
    "ensemble": 6,
}


def _candidates_for(
    leaf: str,
    chars: DataCharacteristics,
    *,
    interpretability: str,
    performance: str,
    latency: str,
) -> list[str]:
    """The rule's leaf and its neighbours in the tree, for ``strategy="cv"``.

    Neighbours are the other branch of the same rule, and the leaf the tree
    reaches when the matching rule is skipped (rules 1 to 4 only: rule 5's
    neighbour stays fast, and rule 6's neighbours are its members).
    """
    out = [leaf, *_SIBLINGS[leaf]]
    rule = _RULE_OF[leaf]
    if rule <= 4:
        fall_through, _ = _walk_tree(
            chars,
            interpretability=interpretability,
            performance=performance,
            latency=latency,
            start=rule + 1,
        )
        out.append(fall_through)
    if not chars.numeric_columns:  # the sequence nets read numeric columns only
        out = [c for c in out if c not in ("alstm", "transformer") or c == leaf]
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------
# default estimators of the leaves (built lazily, from the characteristics)


def _scaled():
    """Qlib's NN/linear feature processors: robust z-score (clip 3), fill 0."""
    from skquant.preprocessing import RobustZScoreNorm

    return Pipeline(
        [
            ("norm", RobustZScoreNorm()),
            (
                "fillna",
                SimpleImputer(
                    strategy="constant", fill_value=0.0, keep_empty_features=True
                ),
            ),
        ]
    )


def _embedder(text_model, fine_tune=None):
    from skquant.text import SentenceEmbedder

    # the process-wide cache: stacking folds and CV candidates encode each
    # distinct text once (fine-tuned encoders have keys of their own)
    return SentenceEmbedder(text_model, cache="memory", **(fine_tune or {}))


# How the text_finetune leaf trains its encoders: a classification head on
# the target's terciles (down / flat / up), one epoch.
_FINE_TUNE = {"fine_tune": "classification", "fine_tune_bins": 3, "fine_tune_epochs": 1}


def _features(
    chars: DataCharacteristics,
    kind: str,
    text_model,
    *,
    numeric_only=False,
    fine_tune=None,
):
    """The feature step of a default leaf, or None when raw ``X`` fits the model.

    ``kind="tree"``: numbers as they are, categories as LightGBM categories (or
    ordinal codes), texts embedded. ``kind="scaled"``: numbers robust-scaled
    and filled, categories one-hot encoded, texts embedded. ``fine_tune``:
    extra :class:`~skquant.text.SentenceEmbedder` parameters of the text
    columns' embedders.
    """
    num = list(chars.numeric_columns)
    txt = [] if numeric_only else list(chars.text_columns)
    cat = [] if numeric_only else list(chars.categorical_columns)
    others = bool(chars.text_columns or chars.categorical_columns)
    if kind == "tree" and not txt and (not cat or chars.native_categorical):
        return None  # LightGBM reads NaN and pandas categories itself
    if kind == "scaled" and not others:
        return _scaled()
    parts = []
    if num:
        parts.append(("num", "passthrough" if kind == "tree" else _scaled(), num))
    parts += [
        (f"text{i}", _embedder(text_model, fine_tune), col) for i, col in enumerate(txt)
    ]
    if cat:
        encoder = (
            OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=-1,
                encoded_missing_value=-1,
            )
            if kind == "tree"
            else OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        )
        parts.append(("cat", encoder, cat))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def _pipeline(features, model):
    return (
        model
        if features is None
        else Pipeline([("features", features), ("model", model)])
    )


def _lightgbm(chars, text_model, seed, *, fine_tune=None, **params):
    from skquant.gbdt import LightGBMRegressor

    return _pipeline(
        _features(chars, "tree", text_model, fine_tune=fine_tune),
        LightGBMRegressor(random_state=seed, **params),
    )


def _linear(chars, text_model, numeric_only=False):
    return _pipeline(
        _features(chars, "scaled", text_model, numeric_only=numeric_only),
        Ridge(alpha=1.0),
    )


def _sequence_net(cls, chars, seed, notes, **params):
    """A sequence net on the numeric columns, windowed from a panel if needed."""
    from skquant.features import SequenceWindower

    num = list(chars.numeric_columns)
    others = bool(chars.text_columns or chars.categorical_columns)
    steps = [
        (
            "features",
            ColumnTransformer(
                [("num", _scaled(), num)], verbose_feature_names_out=False
            )
            if others
            else _scaled(),
        )
    ]
    if others:
        notes.append(
            f"{cls.__name__} reads the numeric columns only; text and categorical "
            "columns are dropped for it."
        )
    window = chars.d_feat is None and chars.is_panel
    if chars.d_feat is not None:
        d_feat = chars.d_feat
    elif window:
        steps.append(("window", SequenceWindower(step_len=20)))
        d_feat = max(len(num), 1)
        notes.append(
            f"no sequence layout in the columns: SequenceWindower(step_len=20) "
            f"builds 20-day windows of the {len(num)} features per instrument "
            "(Qlib's TSDatasetH)."
        )
    else:
        d_feat = max(len(num), 1)
        notes.append(
            f"no sequence layout and no panel index: {cls.__name__} sees each row "
            "as one time step; pass d_feat=... (feature-major columns) or a panel."
        )
    steps.append(("model", cls(d_feat=d_feat, random_state=seed, **params)))
    pipe = Pipeline(steps)
    if window:
        pipe.set_output(transform="pandas")  # the windower needs the panel index
    return pipe


def _stack_cv(chars):
    """Folds for the stacking leaves' out-of-fold predictions.

    Purged K-fold over dates when the panel index gives them (the splitter
    reads it inside ``StackingRegressor``), else contiguous K-fold blocks.
    """
    if chars.is_panel and (chars.n_dates or 0) >= 30:
        return DateSplit(n_splits=3, mode="kfold")
    return KFold(n_splits=3)


def _build_leaf(name, chars, *, text_model, seed, notes):
    """The documented default estimator of leaf ``name`` for these data."""
    if name == "lightgbm":
        # the essay's small-data recommendation (feature_fraction,
        # bagging_fraction and bagging_freq under their scikit-learn names)
        return _lightgbm(
            chars,
            text_model,
            seed,
            n_estimators=200,
            num_leaves=15,
            learning_rate=0.05,
            colsample_bytree=0.8,
            subsample=0.8,
            subsample_freq=5,
        )
    if name == "linear":
        return _linear(chars, text_model)
    if name == "low_latency":
        # the essay's typical LightGBM default
        return _lightgbm(
            chars,
            text_model,
            seed,
            n_estimators=100,
            num_leaves=31,
            learning_rate=0.1,
            colsample_bytree=0.9,
        )
    if name == "alstm":
        from skquant.nn import ALSTMRegressor

        return _sequence_net(
            ALSTMRegressor,
            chars,
            seed,
            notes,
            hidden_size=64,
            num_layers=2,
            dropout=0.2,
        )
    if name == "transformer":
        from skquant.nn import TransformerRegressor

        return _sequence_net(TransformerRegressor, chars, seed, notes)
    if name == "dnn":
        from skquant.nn import DNNRegressor

        return _pipeline(
            _features(chars, "scaled", text_model), DNNRegressor(random_state=seed)
        )
    from sklearn.ensemble import StackingRegressor

    text_lightgbm = {
        "n_estimators": 200,
        "num_leaves": 31,
        "learning_rate": 0.05,
        "colsample_bytree": 0.8,
    }
    if name == "text_features":
        return _lightgbm(chars, text_model, seed, **text_lightgbm)
    if name == "text_finetune":
        notes.append(
            "this leaf fine-tunes the sentence encoder on terciles of the "
            "target (SentenceEmbedder(fine_tune='classification', "
            "fine_tune_bins=3), one epoch; a whole-number target such as "
            "-1/0/1 is used as its classes) and stacks LightGBM on the "
            "fine-tuned embeddings with a "
            + (
                "linear model on the numeric columns"
                if chars.numeric_columns
                else "linear model on the frozen embeddings"
            )
            + " (late fusion)."
        )
        fine_tune = {**_FINE_TUNE, "random_state": seed}
        members = [
            (
                "text_lightgbm",
                _lightgbm(
                    chars, text_model, seed, fine_tune=fine_tune, **text_lightgbm
                ),
            ),
            (
                "numeric_linear" if chars.numeric_columns else "text_linear",
                _linear(chars, text_model, numeric_only=bool(chars.numeric_columns)),
            ),
        ]
    elif name == "ensemble":
        members = [
            (
                "lightgbm",
                _build_leaf(
                    "low_latency", chars, text_model=text_model, seed=seed, notes=[]
                ),
            ),
            ("linear", _linear(chars, text_model)),
            (
                "dnn",
                _build_leaf("dnn", chars, text_model=text_model, seed=seed, notes=[]),
            ),
        ]
    else:  # pragma: no cover - guarded by the parameter names
        raise ValueError(f"unknown leaf {name!r}")
    return StackingRegressor(
        members,
        final_estimator=LinearRegression(positive=True),
        cv=_stack_cv(chars),
    )


def _final_step(est):
    """The estimator that receives the fit metadata of a (nested) Pipeline."""
    prefix = ""
    while isinstance(est, Pipeline):
        name, est = est.steps[-1]
        prefix += f"{name}__"
    return prefix, est


def _request_metadata(est):
    """Request sample_weight and dates on a default leaf (routing enabled)."""
    from sklearn.ensemble import StackingRegressor

    _, final = _final_step(est)
    if isinstance(final, StackingRegressor):
        for _, member in final.estimators:
            _request_metadata(member)
        _request_metadata(final.final_estimator)
        return
    # the dates go as ``dates``; ``groups`` (the same dates, for splitters)
    # is declined so that estimators taking both don't get them twice
    wanted = {
        p: value
        for p, value in (("sample_weight", True), ("dates", True), ("groups", False))
        if has_fit_parameter(final, p)
    }
    if wanted:
        final.set_fit_request(**wanted)


def _placeholder_characteristics(threshold) -> DataCharacteristics:
    """Characteristics for building default leaves before any data is seen."""
    return DataCharacteristics(
        n_samples=0,
        sample_size=0,
        small_data_threshold=threshold,
        data_type="pure_numeric",
        numeric_columns=(0,),
    )


# --------------------------------------------------------------------------
# detection


def _object_kind(values: np.ndarray, name) -> str:
    """ "text" when every present value is a str, "numeric" when they convert."""
    present = [
        v
        for v in values
        if not (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA)
    ]
    if present and all(isinstance(v, str) for v in present):
        return "text"
    if any(isinstance(v, str) for v in present):
        raise TypeError(
            f"Column {name!r} mixes text and other values; make it all text "
            "(str) or all numbers."
        )
    np.asarray(values, dtype=np.float64)  # TypeError for dicts, lists, ...
    return "numeric"


def _column_kinds(X, X_arr) -> tuple[list, list[str]]:
    """Column keys (names, else positions) and their kinds."""
    if isinstance(X, pd.DataFrame):
        names = list(X.columns)
        keys = (
            names if all(isinstance(c, str) for c in names) else list(range(len(names)))
        )
        kinds = []
        for j, (name, dtype) in enumerate(X.dtypes.items()):
            if isinstance(dtype, pd.CategoricalDtype):
                kinds.append("categorical")
            elif pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(
                dtype
            ):
                kinds.append("numeric")
            elif pd.api.types.is_string_dtype(dtype) or dtype is np.dtype(object):
                kinds.append(_object_kind(X.iloc[:, j].to_numpy(dtype=object), name))
            else:
                raise TypeError(
                    f"Column {name!r} has dtype {dtype}, which ModelSelector cannot "
                    "classify as numeric, text or categorical; convert it (e.g. "
                    "dates to numbers) or drop it."
                )
        return keys, kinds
    keys = list(range(X_arr.shape[1]))
    if X_arr.dtype.kind in "biuf":
        return keys, ["numeric"] * len(keys)
    if X_arr.dtype.kind in "US":
        return keys, ["text"] * len(keys)
    kinds = [_object_kind(X_arr[:, j], j) for j in keys]
    return keys, kinds


def _median_per_date(dates) -> float:
    counts = pd.Series(np.asarray(dates)).value_counts()
    return float(counts.median())


# --------------------------------------------------------------------------
# cross-validation


def _subset(params: dict, rows, n_samples: int) -> dict:
    """Row-aligned metadata restricted to ``rows``; other values unchanged."""
    out = {}
    for key, value in params.items():
        if (
            value is not None
            and not isinstance(value, str | bytes | dict)
            and hasattr(value, "__len__")
            and len(value) == n_samples
        ):
            out[key] = _safe_indexing(value, rows)
        else:
            out[key] = value
    return out


def _score(scorer, estimator, X, y, dates, score_params):
    from skquant.metrics._scorers import _ICScorer

    if isinstance(scorer, _ICScorer):
        # without dates, the test rows are scored as one cross-section
        return scorer(
            estimator, X, y, dates=np.zeros(len(y)) if dates is None else dates
        )
    return scorer(estimator, X, y, **score_params)


def _fit_and_score(
    name, estimator, X, y, train, test, fit_params, scorer, dates, score_params
):
    """Fit on ``train``, score on ``test``; a failure scores NaN."""
    start = time.perf_counter()
    try:
        estimator.fit(_safe_indexing(X, train), _safe_indexing(y, train), **fit_params)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        score = _score(
            scorer,
            estimator,
            _safe_indexing(X, test),
            _safe_indexing(y, test),
            None if dates is None else dates[test],
            score_params,
        )
        return float(score), fit_time, time.perf_counter() - start, None
    except Exception as exc:  # noqa: BLE001 - reported as a FitFailedWarning
        return np.nan, time.perf_counter() - start, 0.0, f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------
# the meta-estimator

_LEAF_CONSTRAINT = [HasMethods(["fit", "predict"]), None]


class ModelSelector(RegressorMixin, BaseEstimator):
    """Pick a model family with the seed decision tree, fit it, and say why.

    The tree (see the user guide, "Choosing a model") looks at the data and
    at your requirements, in order; the first rule that applies wins:

    1. ``sample_size < small_data_threshold``: ``"lightgbm"`` (LightGBM +
       SHAP) if ``interpretability == "high"``, else ``"linear"``.
    2. purely numeric columns: ``"alstm"`` if the data are temporal, else
       ``"dnn"``.
    3. text columns: ``"text_finetune"`` if ``performance == "highest"``,
       else ``"text_features"``.
    4. cross-stock relations: ``"transformer"``.
    5. ``latency == "very_low"``: ``"low_latency"`` (LightGBM or linear).
    6. otherwise: ``"ensemble"``.

    With ``strategy="cv"`` the rule's leaf and its neighbours in the tree
    are scored by time-ordered cross-validation and the best is refitted.
    Each leaf is a parameter: ``None`` builds the documented skquant default
    (Notes) when fitting; any regressor replaces it.

    Parameters
    ----------
    interpretability : {"high", "medium", "low"}, default="medium"
        Required interpretability (rule 1).
    performance : {"highest", "high", "standard"}, default="standard"
        Required predictive performance (rule 3).
    latency : {"very_low", "low", "normal"}, default="normal"
        Required prediction latency (rule 5).
    strategy : {"rules", "cv"}, default="rules"
        ``"rules"``: the tree as written. ``"cv"``: cross-validate the rule's
        leaf and its neighbours (Notes) and keep the best mean score.
    cv : int, cross-validation splitter or iterable, default=None
        Folds for ``strategy="cv"``. ``None`` means 3; an int ``k`` means
        :class:`DateSplit` ``(n_splits=k)`` over the dates of the rows, or,
        without dates, :class:`~sklearn.model_selection.TimeSeriesSplit`
        ``(k)`` over the rows in their order. Splitters receive the dates as
        ``groups``.
    scoring : str or callable, default=None
        Score for ``strategy="cv"`` (greater is better). ``None`` is the mean
        daily IC (:data:`skquant.metrics.ic_scorer`); without dates the test
        rows count as a single cross-section.
    n_jobs : int, default=None
        Candidate-fold fits run in parallel with
        :class:`sklearn.utils.parallel.Parallel`, so a joblib backend (loky,
        dask, ray) distributes them.
    small_data_threshold : int, default=10_000
        Rule 1's threshold on the sample size.
    sample_size : int, default=None
        Override the sample size rule 1 reads (default: the number of rows).
    temporal : "auto" or bool, default="auto"
        Override the temporal structure rule 2 reads. ``"auto"``: temporal
        when the columns form a sequence layout (Alpha360's ``CLOSE59 ..
        CLOSE0``, :class:`~skquant.features.SequenceWindower`'s ``f_lag19 ..
        f_lag0``) or the rows carry two dates or more (a panel index, or
        ``dates``/``groups`` passed to ``fit``).
    d_feat : int, default=None
        Features per time step when the numeric columns are a feature-major
        sequence whose names do not show it.
    has_text : "auto" or bool, default="auto"
        Override rule 3's test. ``"auto"``: columns whose values are all
        strings (object or string dtype) are text. ``False`` treats them as
        categories.
    text_columns : list of str or int, default=None
        The text columns, when detection should not decide.
    complex_relations : "auto" or bool, default="auto"
        Override rule 4's test. ``"auto"``: true when ``relations`` is given,
        or when ``min_instruments`` is set and a panel has that many
        instruments per date (median).
    relations : array-like of shape (n_instruments, n_instruments), default=None
        A relation matrix between the instruments (industry links,
        correlations, supply chains). Only detection reads it: no skquant
        model consumes it yet (Notes).
    min_instruments : int, default=None
        Count a panel with at least this many instruments per date as having
        cross-stock relations.
    lightgbm, linear, alstm, dnn, text_finetune, text_features, transformer, \
low_latency, ensemble : estimator, default=None
        The estimator of each leaf; ``None`` builds skquant's default (Notes).
        A given estimator receives ``X`` as passed to ``fit``, so it carries
        its own preprocessing.
    text_model : str or path-like, default=None
        The sentence-transformers model of the default text leaves
        (:class:`~skquant.text.SentenceEmbedder`'s ``model_name_or_path``).
    random_state : int, RandomState instance or None, default=None
        Seed of the default leaves.

    Attributes
    ----------
    selected_ : str
        Name of the chosen leaf (one of the leaf parameters).
    estimator_ : estimator
        The chosen leaf's estimator, fitted on all the rows.
    characteristics_ : DataCharacteristics
        What was detected (or overridden) about the data; ``print`` it.
    decision_path_ : DecisionPath
        The rules evaluated, in order, with what each saw and its outcome,
        then the cross-validation summary and notes; ``print`` it.
    cv_results_ : dict of ndarray
        With ``strategy="cv"``: per candidate, ``candidate``, ``label``,
        ``rule_choice``, ``split<k>_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score``, ``mean_fit_time``,
        ``std_fit_time``, ``mean_score_time`` and ``error`` (why a fold
        failed, or None). Loads into a DataFrame.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string names.

    See Also
    --------
    DateSplit : The time-ordered folds of ``strategy="cv"``.
    skquant.explain.explain : SHAP values of the fitted choice.

    Notes
    -----
    Default leaves (built when ``fit`` needs them, from what was detected):

    - ``lightgbm``: :class:`~skquant.gbdt.LightGBMRegressor` with the essay's
      small-data settings ``num_leaves=15, learning_rate=0.05,
      colsample_bytree=0.8`` (``feature_fraction``), ``subsample=0.8,
      subsample_freq=5`` (bagging), 200 rounds.
    - ``linear``: :class:`~skquant.preprocessing.RobustZScoreNorm`, zero fill,
      ``Ridge(alpha=1)``.
    - ``alstm``: :class:`~skquant.nn.ALSTMRegressor` (``hidden_size=64,
      num_layers=2, dropout=0.2``) on the scaled numeric columns; a panel
      without a sequence layout is windowed first with
      ``SequenceWindower(step_len=20)``.
    - ``dnn``: :class:`~skquant.nn.DNNRegressor` on the scaled columns.
    - ``text_features``: :class:`~skquant.text.SentenceEmbedder` per text
      column in a :class:`~sklearn.compose.ColumnTransformer`, numbers passed
      through, then LightGBM.
    - ``text_finetune``: the ``text_features`` pipeline with fine-tuned
      encoders, ``SentenceEmbedder(fine_tune="classification",
      fine_tune_bins=3)`` for one epoch: each text column's encoder is
      trained on the terciles of the target (down / flat / up; a
      whole-number target such as -1/0/1 is used as its classes). Stacked
      with a linear
      model on the numeric columns (or on the frozen embeddings when there
      are none). The stacking fine-tunes once per fold plus once on all the
      rows, and the fitted leaf's pickle carries the fine-tuned weights.
    - ``transformer``: :class:`~skquant.nn.TransformerRegressor`, built like
      ``alstm``. It models time per instrument; it does not read
      ``relations`` (skquant has no graph model yet).
    - ``low_latency``: LightGBM with the essay's typical settings
      (``num_leaves=31, learning_rate=0.1, colsample_bytree=0.9``, 100
      rounds).
    - ``ensemble``: a :class:`~sklearn.ensemble.StackingRegressor` of the
      ``low_latency`` LightGBM, the ``linear`` model and the ``dnn``,
      blended by a non-negative linear regression.

    Categorical columns (pandas ``category``) go to LightGBM as categories
    and are one-hot encoded for the linear model and the DNN. The stacking
    leaves fit their blend on purged K-fold predictions over dates
    (``DateSplit(3, mode="kfold")``) for panels, else on 3 contiguous folds.

    Neighbours scored with ``strategy="cv"``: the other branch of the
    matching rule (``lightgbm`` <-> ``linear``, ``alstm`` -> ``dnn``,
    ``text_finetune`` <-> ``text_features``, ``low_latency`` -> ``linear``),
    plus, for rules 1 to 4, the leaf the tree reaches when that rule is
    skipped; ``ensemble`` is scored against its members.

    ``sample_weight`` goes to the chosen estimator (the last step of a
    pipeline); the row dates go to estimators whose ``fit`` takes ``dates``
    (the skquant models). With metadata routing enabled, both follow the
    leaves' requests instead; the default leaves request them.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.model_selection import ModelSelector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=300)
    >>> selector = ModelSelector().fit(X, y)
    >>> selector.selected_
    'linear'
    >>> print(selector.decision_path_)
    1. sample_size < 10,000 [sample_size=300] -> yes
       interpretability == 'high' ['medium'] -> no
       => linear: Linear model
    >>> selector.predict(X[:2]).shape
    (2,)
    """

    __metadata_request__fit = {"sample_weight": UNUSED, "dates": True, "groups": True}

    _parameter_constraints: dict = {
        "interpretability": [StrOptions({"high", "medium", "low"})],
        "performance": [StrOptions({"highest", "high", "standard"})],
        "latency": [StrOptions({"very_low", "low", "normal"})],
        "strategy": [StrOptions({"rules", "cv"})],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "small_data_threshold": [Interval(Integral, 1, None, closed="left")],
        "sample_size": [Interval(Integral, 0, None, closed="left"), None],
        "temporal": [StrOptions({"auto"}), "boolean"],
        "d_feat": [Interval(Integral, 1, None, closed="left"), None],
        "has_text": [StrOptions({"auto"}), "boolean"],
        "text_columns": ["array-like", None],
        "complex_relations": [StrOptions({"auto"}), "boolean"],
        "relations": ["array-like", None],
        "min_instruments": [Interval(Integral, 1, None, closed="left"), None],
        **dict.fromkeys(_LEAVES, _LEAF_CONSTRAINT),
        "text_model": [str, os.PathLike, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        interpretability: str = "medium",
        performance: str = "standard",
        latency: str = "normal",
        strategy: str = "rules",
        cv=None,
        scoring=None,
        n_jobs: int | None = None,
        small_data_threshold: int = 10_000,
        sample_size: int | None = None,
        temporal: str | bool = "auto",
        d_feat: int | None = None,
        has_text: str | bool = "auto",
        text_columns=None,
        complex_relations: str | bool = "auto",
        relations=None,
        min_instruments: int | None = None,
        lightgbm=None,
        linear=None,
        alstm=None,
        dnn=None,
        text_finetune=None,
        text_features=None,
        transformer=None,
        low_latency=None,
        ensemble=None,
        text_model: str | os.PathLike | None = None,
        random_state=None,
    ) -> None:
        self.interpretability = interpretability
        self.performance = performance
        self.latency = latency
        self.strategy = strategy
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.small_data_threshold = small_data_threshold
        self.sample_size = sample_size
        self.temporal = temporal
        self.d_feat = d_feat
        self.has_text = has_text
        self.text_columns = text_columns
        self.complex_relations = complex_relations
        self.relations = relations
        self.min_instruments = min_instruments
        self.lightgbm = lightgbm
        self.linear = linear
        self.alstm = alstm
        self.dnn = dnn
        self.text_finetune = text_finetune
        self.text_features = text_features
        self.transformer = transformer
        self.low_latency = low_latency
        self.ensemble = ensemble
        self.text_model = text_model
        self.random_state = random_state

    # ------------------------------------------------------------ parameters
    def set_params(self, **params):
        """Set parameters, including those of a leaf's estimator.

        ``set_params(alstm__hidden_size=32)`` reaches the ``alstm`` leaf once
        an estimator is set for it; a default (``None``) leaf is built only
        when fitting, so set the estimator first
        (``set_params(alstm=ALSTMRegressor(...))``).

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their values.

        Returns
        -------
        self : ModelSelector
        """
        for key in params:
            leaf, sep, _ = key.partition("__")
            if (
                sep
                and leaf in _LEAVES
                and getattr(self, leaf) is None
                and leaf not in params
            ):
                raise ValueError(
                    f"Cannot set {key!r}: the {leaf!r} leaf is None (skquant's "
                    f"default, built when fitting). Pass an estimator first, e.g. "
                    f"set_params({leaf}=<estimator>)."
                )
        return super().set_params(**params)

    def _requirements(self) -> dict:
        return {
            "interpretability": self.interpretability,
            "performance": self.performance,
            "latency": self.latency,
        }

    def _seed(self):
        if self.random_state is None:
            return None
        return int(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        )

    def _leaf_estimator(self, name, chars, notes, *, seed=None):
        """Leaf ``name``'s estimator: the user's (an unfitted clone) or the default."""
        given = getattr(self, name)
        if given is not None:
            notes.append(f"the {name!r} estimator is the one passed as {name}=.")
            return clone(given)
        est = _build_leaf(
            name, chars, text_model=self.text_model, seed=seed, notes=notes
        )
        if _routing_enabled():
            _request_metadata(est)
        return est

    def _get_scorer(self):
        if self.scoring is None:
            from skquant.metrics import ic_scorer

            return ic_scorer
        return check_scoring(None, scoring=self.scoring)

    # ------------------------------------------------------------- detection
    def _characteristics(self, X, X_arr, row_dates) -> tuple[DataCharacteristics, bool]:
        sources: dict[str, str] = {}
        n_samples = X_arr.shape[0]
        keys, kinds = _column_kinds(X, X_arr)
        convert = (
            not isinstance(X, pd.DataFrame)
            and X_arr.dtype.kind not in "biuf"
            and all(k == "numeric" for k in kinds)
        )
        if self.text_columns is not None:
            wanted = list(self.text_columns)
            missing = [c for c in wanted if c not in keys]
            if missing:
                raise ValueError(
                    f"text_columns {missing} are not columns of X; its columns are "
                    f"{keys[:10]}{' ...' if len(keys) > 10 else ''}."
                )
            kinds = [
                "text" if k in wanted else ("categorical" if kind == "text" else kind)
                for k, kind in zip(keys, kinds, strict=True)
            ]
            sources["text"] = "text_columns parameter"
        native = True
        if self.has_text is False and "text" in kinds:
            kinds = ["categorical" if kind == "text" else kind for kind in kinds]
            native = False
        num = tuple(k for k, kind in zip(keys, kinds, strict=True) if kind == "numeric")
        txt = tuple(k for k, kind in zip(keys, kinds, strict=True) if kind == "text")
        cat = tuple(
            k for k, kind in zip(keys, kinds, strict=True) if kind == "categorical"
        )

        if self.has_text is True or txt:
            data_type = "with_text"
        elif cat:
            data_type = "mixed"
        else:
            data_type = "pure_numeric"
        if isinstance(self.has_text, bool):
            sources["has_text"] = sources["data_type"] = (
                f"override has_text={self.has_text}"
            )
        else:
            sources["data_type"] = (
                f"detected: {len(num)} numeric, {len(txt)} text, "
                f"{len(cat)} categorical columns"
            )

        # sequence layout among the numeric columns
        layout = None
        if self.d_feat is not None:
            if len(num) % self.d_feat:
                raise ValueError(
                    f"d_feat={self.d_feat} does not divide the {len(num)} numeric "
                    "columns; a sequence layout has d_feat features x T steps."
                )
            layout = (self.d_feat, len(num) // self.d_feat)
            sources["sequence"] = "d_feat parameter"
        elif isinstance(X, pd.DataFrame) and all(isinstance(k, str) for k in num):
            layout = _sequence_layout(num)
            if layout is not None:
                sources["sequence"] = "detected from the column names"

        panel = is_panel(X)
        n_dates = per_date = None
        if row_dates is not None:
            n_dates = int(pd.Series(np.asarray(row_dates)).nunique())
            per_date = _median_per_date(row_dates)
        if isinstance(self.temporal, bool):
            temporal = self.temporal
            sources["temporal"] = f"override temporal={self.temporal}"
        elif layout is not None and layout[1] > 1:
            temporal = True
            sources["temporal"] = (
                f"sequence layout d_feat={layout[0]} x {layout[1]} steps"
            )
        elif n_dates is not None and n_dates > 1:
            temporal = True
            where = "panel index" if panel else "dates passed to fit"
            sources["temporal"] = f"{n_dates} dates ({where})"
        else:
            temporal = False
            sources["temporal"] = "no dates, no sequence layout"

        relations_shape = None
        if self.relations is not None:
            matrix = np.asarray(self.relations)
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
                raise ValueError(
                    "relations must be a square (n_instruments, n_instruments) "
                    f"matrix; got shape {matrix.shape}."
                )
            relations_shape = matrix.shape
        if isinstance(self.complex_relations, bool):
            relations = self.complex_relations
            sources["complex_relations"] = (
                f"override complex_relations={self.complex_relations}"
            )
        elif relations_shape is not None:
            relations = True
            sources["complex_relations"] = (
                f"relations matrix {relations_shape[0]}x{relations_shape[1]}"
            )
        elif self.min_instruments is not None and panel and per_date is not None:
            relations = per_date >= self.min_instruments
            sources["complex_relations"] = (
                f"{per_date:g} instruments per date (median) vs "
                f"min_instruments={self.min_instruments}"
            )
        else:
            relations = False
            sources["complex_relations"] = "no relations matrix"

        if self.sample_size is not None:
            sample_size = int(self.sample_size)
            sources["sample_size"] = "override"
        else:
            sample_size = n_samples
        chars = DataCharacteristics(
            n_samples=n_samples,
            sample_size=sample_size,
            small_data_threshold=int(self.small_data_threshold),
            data_type=data_type,
            numeric_columns=num,
            text_columns=txt,
            categorical_columns=cat,
            native_categorical=native,
            temporal=bool(temporal),
            d_feat=None if layout is None else layout[0],
            n_steps=None if layout is None else layout[1],
            is_panel=panel,
            n_dates=n_dates,
            instruments_per_date=per_date,
            complex_relations=bool(relations),
            relations_shape=relations_shape,
            sources=sources,
        )
        return chars, convert

    # ------------------------------------------------------------------- fit
    def _model_input(self, X, X_arr):
        if isinstance(X, pd.DataFrame):
            return X
        return X_arr.astype(np.float64) if self._to_float else X_arr

    @_fit_context(prefer_skip_nested_validation=False)  # leaves validate their own
    def fit(self, X, y, sample_weight=None, *, dates=None, groups=None, **fit_params):
        """Detect the data's characteristics, choose a leaf, and fit it.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Features. A panel (indexed by ``(datetime, instrument)``) gives
            the dates; object or string columns holding text are text;
            pandas ``category`` columns are categorical.
        y : array-like or pandas.Series of shape (n_samples,)
            Target.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights for the chosen estimator.
        dates, groups : array-like of shape (n_samples,), default=None
            The date of each row, for array input (either name). They make
            the data temporal, drive the folds of ``strategy="cv"`` and the
            IC, and reach the skquant models.
        **fit_params : dict
            Other metadata for the leaves; only with metadata routing
            enabled.

        Returns
        -------
        self : ModelSelector
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        if dates is not None and groups is not None:
            raise ValueError("Pass the dates once: either dates=... or groups=....")
        routing = _routing_enabled()
        if not routing and fit_params:
            raise ValueError(
                f"{type(self).__name__}.fit got unexpected argument(s) "
                f"{sorted(fit_params)}; extra metadata needs metadata routing: "
                "sklearn.set_config(enable_metadata_routing=True)."
            )
        allow_nan = get_tags(self).input_tags.allow_nan
        X_arr, y_arr = check_X_y(
            X,
            y,
            dtype=None,
            ensure_all_finite="allow-nan" if allow_nan else True,
            y_numeric=True,
        )
        validate_data(self, X, y, skip_check_array=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X_arr, dtype=np.float64, ensure_non_negative=True
            )
        explicit = dates if dates is not None else groups
        row_dates = None
        if explicit is not None or is_panel(X):
            row_dates = np.asarray(get_dates(X, explicit, n_samples=len(X_arr)))

        chars, self._to_float = self._characteristics(X, X_arr, row_dates)
        X_fit = self._model_input(X, X_arr)
        if isinstance(y, pd.Series | pd.DataFrame):
            y_fit = pd.Series(y_arr, index=y.index, name=getattr(y, "name", None))
        else:
            y_fit = y_arr
        leaf, steps = _walk_tree(chars, **self._requirements())

        if routing:
            metadata = {
                "sample_weight": sample_weight,
                "dates": dates,
                "groups": groups,
            }
            metadata = {
                k: v for k, v in {**metadata, **fit_params}.items() if v is not None
            }
            routed = process_routing(self, "fit", **metadata)
        else:
            routed = None
        seed = self._seed()
        notes: dict[str, list[str]] = {}

        def build(name):
            notes[name] = []
            return self._leaf_estimator(name, chars, notes[name], seed=seed)

        def params_for(name, est):
            if routed is not None:
                return dict(routed[name].fit)
            return _legacy_fit_params(name, est, sample_weight, row_dates)

        if self.strategy == "rules":
            est = build(leaf)
            est.fit(X_fit, y_fit, **params_for(leaf, est))
            selected = leaf
            self.__dict__.pop("cv_results_", None)
        else:
            candidates = _candidates_for(leaf, chars, **self._requirements())
            estimators = {name: build(name) for name in candidates}
            params = {name: params_for(name, est) for name, est in estimators.items()}
            score_params = {}
            if routed is not None and "scorer" in routed:
                score_params = dict(routed.scorer.score)
            self.cv_results_ = self._cross_validate(
                estimators, params, X_fit, y_fit, row_dates, score_params, leaf
            )
            selected = str(
                self.cv_results_["candidate"][
                    int(np.argmin(self.cv_results_["rank_test_score"]))
                ]
            )
            est = clone(estimators[selected]).fit(X_fit, y_fit, **params[selected])
            scores = ", ".join(
                f"{c} {s:.4f}"
                for c, s in zip(
                    self.cv_results_["candidate"],
                    self.cv_results_["mean_test_score"],
                    strict=True,
                )
            )
            steps.append(
                DecisionStep(
                    "cv",
                    "best mean cross-validated score",
                    scores,
                    None,
                    selected,
                    f"mean {self._score_name()} over "
                    f"{self.cv_results_['n_splits']} time-ordered folds: {scores} "
                    f"-> {selected} ({_LEAF_LABELS[selected]})",
                )
            )
        steps += [DecisionStep("note", "", "", None, detail=n) for n in notes[selected]]
        self.selected_ = selected
        self.estimator_ = est
        self.characteristics_ = chars
        self.decision_path_ = DecisionPath(steps)
        return self

    def _score_name(self) -> str:
        if self.scoring is None:
            return "daily IC"
        return self.scoring if isinstance(self.scoring, str) else "score"

    def _splits(self, X, y, row_dates):
        cv = 3 if self.cv is None else self.cv
        if isinstance(cv, Integral):
            cv = (
                DateSplit(n_splits=int(cv))
                if row_dates is not None
                else TimeSeriesSplit(int(cv))
            )
        if hasattr(cv, "split"):
            return list(cv.split(X, y, groups=row_dates))
        return [(np.asarray(train), np.asarray(test)) for train, test in cv]

    def _cross_validate(
        self, estimators, params, X, y, row_dates, score_params, rule_leaf
    ):
        splits = self._splits(X, y, row_dates)
        n = len(y)
        scorer = self._get_scorer()
        names = list(estimators)
        out = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_and_score)(
                name,
                clone(estimators[name]),
                X,
                y,
                train,
                test,
                _subset(params[name], train, n),
                scorer,
                row_dates,
                _subset(score_params, test, n),
            )
            for name in names
            for train, test in splits
        )
        k = len(splits)
        scores = np.array([o[0] for o in out], dtype=np.float64).reshape(len(names), k)
        fit_times = np.array([o[1] for o in out]).reshape(len(names), k)
        score_times = np.array([o[2] for o in out]).reshape(len(names), k)
        errors = [[o[3] for o in out[i * k : (i + 1) * k]] for i in range(len(names))]
        for name, errs in zip(names, errors, strict=True):
            failed = [e for e in errs if e is not None]
            if failed:
                warnings.warn(
                    f"{len(failed)} of {k} fits of the {name!r} candidate failed and "
                    f"score NaN; first error: {failed[0]}",
                    FitFailedWarning,
                    stacklevel=3,
                )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(scores, axis=1) if k else np.full(len(names), np.nan)
            std = np.nanstd(scores, axis=1)
        if np.isnan(scores).any(axis=1).all():
            raise ValueError(
                "Every candidate failed or scored NaN in a fold: "
                + "; ".join(f"{n}: {e[0]}" for n, e in zip(names, errors, strict=True))
            )
        # a candidate with a failed (NaN) fold ranks after every complete one
        key = np.where(np.isnan(scores).any(axis=1), -np.inf, mean)
        order = sorted(range(len(names)), key=lambda i: -key[i])  # stable: rule first
        rank = np.empty(len(names), dtype=np.int64)
        rank[order] = np.arange(1, len(names) + 1)
        results = {
            "candidate": np.asarray(names, dtype=object),
            "label": np.asarray([_LEAF_LABELS[n] for n in names], dtype=object),
            "rule_choice": np.asarray([n == rule_leaf for n in names]),
            **{f"split{i}_test_score": scores[:, i] for i in range(k)},
            "mean_test_score": mean,
            "std_test_score": std,
            "rank_test_score": rank,
            "mean_fit_time": fit_times.mean(axis=1),
            "std_fit_time": fit_times.std(axis=1),
            "mean_score_time": score_times.mean(axis=1),
            "error": np.asarray(
                [next((e for e in errs if e), None) for errs in errors], dtype=object
            ),
        }
        results["n_splits"] = k
        return results

    # --------------------------------------------------------------- predict
    def predict(self, X):
        """Predict with the chosen, fitted estimator.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Samples with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X_arr = check_array(X, dtype=None, ensure_all_finite=False)
        validate_data(self, X, reset=False, skip_check_array=True)
        return self.estimator_.predict(self._model_input(X, X_arr))

    # ---------------------------------------------------------- meta-estimator
    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        The leaves receive the metadata of ``fit`` that they request (the
        default leaves request ``sample_weight`` and ``dates``); a scorer of
        ``strategy="cv"`` other than the IC scorers (which are given the
        dates) receives what it requests.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        chars = _placeholder_characteristics(self.small_data_threshold)
        for name in _LEAVES:
            given = getattr(self, name)
            est = given if given is not None else self._leaf_estimator(name, chars, [])
            router.add(
                **{name: est},
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        from skquant.metrics._scorers import _ICScorer

        scorer = self._get_scorer()
        if not isinstance(scorer, _ICScorer):  # IC scorers get the dates directly
            router.add(
                scorer=scorer,
                method_mapping=MethodMapping().add(caller="fit", callee="score"),
            )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        given = [getattr(self, name, None) for name in _LEAVES]
        given = [est for est in given if est is not None]
        try:
            # the default leaves all handle NaN (imputers, LightGBM)
            tags.input_tags.allow_nan = all(_allows_nan(est) for est in given)
            tags.non_deterministic = any(
                get_tags(est).non_deterministic for est in given
            )
        except (AttributeError, TypeError, ValueError):
            pass
        return tags


def _allows_nan(est) -> bool:
    """Whether an estimator takes NaN, looking inside the usual composites.

    scikit-learn's Pipeline, ColumnTransformer and Stacking don't pass their
    parts' ``allow_nan`` on; a pipeline that starts with an imputer does
    take NaN.
    """
    from sklearn.ensemble import StackingRegressor

    if isinstance(est, Pipeline):
        steps = [s for _, s in est.steps if s is not None and s != "passthrough"]
        return _allows_nan(steps[0]) if steps else True
    if isinstance(est, ColumnTransformer):
        return all(
            _allows_nan(t)
            for _, t, _ in est.transformers
            if t not in ("drop", "passthrough")
        ) and (est.remainder in ("drop", "passthrough") or _allows_nan(est.remainder))
    if isinstance(est, StackingRegressor):
        return all(_allows_nan(e) for _, e in est.estimators if e != "drop")
    return bool(get_tags(est).input_tags.allow_nan)


def _legacy_fit_params(name, est, sample_weight, row_dates) -> dict:
    """Fit metadata without routing: to the estimator, or a pipeline's last step."""
    from sklearn.ensemble import StackingRegressor

    prefix, final = _final_step(est)
    params = {}
    if sample_weight is not None:
        members = final.estimators if isinstance(final, StackingRegressor) else []
        if not has_fit_parameter(final, "sample_weight") or any(
            not has_fit_parameter(_final_step(m)[1], "sample_weight")
            or isinstance(m, Pipeline)
            for _, m in members
        ):
            raise TypeError(
                f"The {name!r} leaf ({type(est).__name__}) cannot take "
                "sample_weight without metadata routing; enable it with "
                "sklearn.set_config(enable_metadata_routing=True), or pass a leaf "
                "whose fit takes sample_weight."
            )
        params[prefix + "sample_weight"] = sample_weight
    if row_dates is not None and has_fit_parameter(final, "dates"):
        params[prefix + "dates"] = row_dates
    return params
