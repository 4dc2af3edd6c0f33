"""ModelSelector: the seed decision tree on real data, strategy="cv", and the
meta-estimator contract (parameters, routing, Pipeline, GridSearchCV)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from joblib import parallel_config
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import get_tags
from threadpoolctl import threadpool_limits

from skquant.datasets import load_financial_tweets, load_sp500
from skquant.features import Alpha158, Alpha360, forward_return
from skquant.gbdt import LightGBMRegressor
from skquant.metrics import ic_scorer
from skquant.model_selection import DateSplit, DecisionPath, ModelSelector
from skquant.model_selection._selector import _sequence_layout
from skquant.preprocessing import drop_missing_label


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    # LightGBM's OpenMP threads thrash on the 2 shared CI cores (30x slower)
    with threadpool_limits(1, user_api="openmp"):
        yield


# ---------------------------------------------------------------- real data
# 40 instruments, 2016-01 to 2017-06: 12,600 labelled rows after Alpha's
# 60-day warm-up, above the tree's 10,000-sample threshold.


@pytest.fixture(scope="module")
def sp500():
    panel = load_sp500(start="2016-01-01", end="2017-06-30")
    keep = sorted(panel.index.get_level_values("instrument").unique())[:40]
    return panel[panel.index.get_level_values("instrument").isin(keep)]


def _features(panel, handler):
    X = handler.fit_transform(panel)
    y = forward_return(panel)
    dates = X.index.get_level_values("datetime")
    keep = dates >= dates.unique().sort_values()[60]
    X, y = drop_missing_label(X[keep], y[keep])
    return X.fillna(0.0), y


@pytest.fixture(scope="module")
def alpha158(sp500):
    return _features(sp500, Alpha158())


@pytest.fixture(scope="module")
def alpha360(sp500):
    return _features(sp500, Alpha360())


@pytest.fixture(scope="module")
def alpha158_small(alpha158):
    """The first 100 dates of 30 instruments: 3,000 rows, below the threshold."""
    X, y = alpha158
    dates = X.index.get_level_values("datetime")
    instruments = X.index.get_level_values("instrument")
    keep = (dates <= dates.unique()[99]) & instruments.isin(instruments.unique()[:30])
    return X[keep], y[keep]


@pytest.fixture(scope="module")
def mixed(alpha158):
    """Five Alpha158 factors and the instrument as a pandas category."""
    X, y = alpha158
    X = X[["ROC5", "ROC20", "STD20", "MA5", "VSTD20"]].copy()
    X["instrument"] = pd.Categorical(X.index.get_level_values("instrument"))
    return X, y


@pytest.fixture(scope="module")
def relations(sp500, mixed):
    """Return correlations between the instruments on the first year only."""
    close = sp500["close"].unstack("instrument").loc[:"2016-12-31"]
    return close.pct_change().corr().to_numpy()


@pytest.fixture(scope="module")
def tweets():
    """All 11,931 labelled financial tweets; bearish -1, neutral 0, bullish 1."""
    frame = pd.concat(
        [load_financial_tweets("train"), load_financial_tweets("valid")],
        ignore_index=True,
    )
    return frame[["text"]], frame["label"].map({0: -1.0, 1: 1.0, 2: 0.0})


# ------------------------------------------------------ tiny leaf estimators
_NET = {
    "max_epochs": 1,
    "batch_size": 4096,
    "early_stopping": None,
    "n_threads": 1,
    "random_state": 0,
}


def _tiny_lgbm():
    return LightGBMRegressor(n_estimators=10, num_leaves=7, n_jobs=1, random_state=0)


def _tiny_text():
    return make_pipeline(
        make_column_transformer((HashingVectorizer(n_features=256), "text")), Ridge()
    )


def _tiny_leaves():
    from skquant.nn import ALSTMRegressor, DNNRegressor, TransformerRegressor

    numeric_only = make_column_transformer(
        ("passthrough", ["ROC5", "ROC20", "STD20", "MA5", "VSTD20"])
    )
    one_hot = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["instrument"]),
        remainder="passthrough",
    )
    return {
        "lightgbm": _tiny_lgbm(),
        "linear": Ridge(),
        "alstm": ALSTMRegressor(d_feat=6, hidden_size=4, num_layers=1, **_NET),
        "dnn": DNNRegressor(layers=(8,), **_NET),
        "text_finetune": _tiny_text(),
        "text_features": _tiny_text(),
        "transformer": make_pipeline(
            numeric_only,
            TransformerRegressor(
                d_feat=5, d_model=8, nhead=2, num_layers=1, dim_feedforward=8, **_NET
            ),
        ),
        "low_latency": _tiny_lgbm(),
        "ensemble": make_pipeline(one_hot, Ridge()),
    }


def _as_arrays(data):
    X, y = data
    return X.to_numpy(), y.to_numpy()


# one real dataset per rule of the tree, and the leaf it must choose
RULE_CASES = [
    ("alpha158_small", {"interpretability": "high"}, None, 1, "lightgbm"),
    ("alpha158_small", {}, None, 1, "linear"),
    ("alpha360", {}, None, 2, "alstm"),
    ("alpha158", {}, _as_arrays, 2, "dnn"),
    ("tweets", {"performance": "highest"}, None, 3, "text_finetune"),
    ("tweets", {}, None, 3, "text_features"),
    ("mixed", {"relations": "relations"}, None, 4, "transformer"),
    ("mixed", {"latency": "very_low"}, None, 5, "low_latency"),
    ("mixed", {}, None, 6, "ensemble"),
]


@pytest.mark.parametrize(
    "data_name, params, convert, rule, leaf",
    RULE_CASES,
    ids=[f"rule{case[3]}-{case[4]}" for case in RULE_CASES],
)
def test_each_rule_picks_its_leaf_on_real_data(
    request, data_name, params, convert, rule, leaf
):
    data = request.getfixturevalue(data_name)
    X, y = convert(data) if convert else data
    params = {
        k: request.getfixturevalue(v) if k == "relations" else v
        for k, v in params.items()
    }
    selector = ModelSelector(**params, **_tiny_leaves()).fit(X, y)

    assert selector.selected_ == leaf
    path = selector.decision_path_
    assert isinstance(path, DecisionPath) and path.leaf == leaf
    rules = [step for step in path if isinstance(step.rule, int)]
    assert [step.rule for step in rules] == list(range(1, rule + 1))
    assert [step.matched for step in rules] == [False] * (rule - 1) + [True]
    text = str(path)
    assert f"=> {leaf}:" in text and text.startswith("1. sample_size < 10,000")
    pred = selector.predict(X[:50] if convert else X.iloc[:50])
    assert pred.shape == (50,) and np.isfinite(pred).all()


def test_detected_characteristics(alpha360, alpha158, mixed, tweets, relations):
    chars = ModelSelector(alstm=Ridge()).fit(*alpha360).characteristics_
    assert (chars.d_feat, chars.n_steps, chars.temporal) == (6, 60, True)
    assert "sequence layout" in chars.sources["temporal"]
    assert chars.is_panel and chars.instruments_per_date == 40

    X, y = _as_arrays(alpha158)
    chars = ModelSelector(dnn=Ridge()).fit(X, y).characteristics_
    assert (chars.temporal, chars.data_type, chars.sample_size) == (
        False,
        "pure_numeric",
        12600,
    )
    dates = alpha158[0].index.get_level_values("datetime")
    chars = ModelSelector(alstm=Ridge()).fit(X, y, dates=dates).characteristics_
    assert chars.temporal and chars.sources["temporal"].endswith(
        "(dates passed to fit)"
    )

    chars = ModelSelector(**_tiny_leaves()).fit(*mixed).characteristics_
    assert chars.data_type == "mixed"
    assert chars.categorical_columns == ("instrument",)
    assert not chars.complex_relations
    asked = ModelSelector(min_instruments=30, **_tiny_leaves()).fit(*mixed)
    assert asked.selected_ == "transformer"
    assert (
        "40 instruments per date" in asked.characteristics_.sources["complex_relations"]
    )
    assert ModelSelector(min_instruments=50, **_tiny_leaves()).fit(
        *mixed
    ).selected_ == ("ensemble")
    chars = ModelSelector(relations=relations, **_tiny_leaves()).fit(*mixed)
    assert chars.characteristics_.relations_shape == (40, 40)

    X_text, y_text = tweets
    chars = ModelSelector(text_features=_tiny_text()).fit(X_text, y_text)
    assert chars.characteristics_.text_columns == ("text",)
    assert chars.characteristics_.has_text


def test_overrides_change_the_path(alpha360, alpha158_small, mixed):
    leaves = {**_tiny_leaves(), "alstm": Ridge()}
    # temporal=False: the Alpha360 panel now goes to the DNN
    selector = ModelSelector(temporal=False, **leaves).fit(*alpha360)
    assert selector.selected_ == "dnn"
    assert "override temporal=False" in str(selector.decision_path_)
    # sample_size overrides the row count of rule 1
    selector = ModelSelector(sample_size=50_000, **leaves).fit(*alpha158_small)
    assert selector.selected_ == "alstm"
    assert "sample_size=50,000 (override)" in str(selector.decision_path_)
    # small_data_threshold moves rule 1's boundary
    assert (
        ModelSelector(small_data_threshold=2_000, **leaves)
        .fit(*alpha158_small)
        .selected_
        == "alstm"
    )
    # has_text=True sends data without text down rule 3
    text_leaf = {**leaves, "text_features": leaves["ensemble"]}
    selector = ModelSelector(has_text=True, **text_leaf).fit(*mixed)
    assert selector.selected_ == "text_features"
    # complex_relations=True without a matrix
    assert ModelSelector(complex_relations=True, **leaves).fit(*mixed).selected_ == (
        "transformer"
    )


def test_sequence_layout_from_column_names():
    from skquant.features._alpha360 import alpha360_names

    assert _sequence_layout(alpha360_names(60)) == (6, 60)
    assert _sequence_layout([f"{f}_lag{k}" for f in "ab" for k in (2, 1, 0)]) == (2, 3)
    assert _sequence_layout(Alpha158()._names()) is None  # KMID, ROC5, ROC10, ...
    assert _sequence_layout(["a1", "a0", "b1", "b0", "a2"]) is None  # split block
    assert _sequence_layout(["a0", "a1"]) is None  # newest first
    assert _sequence_layout(["x0"]) is None


# ---------------------------------------------------------- real defaults
def test_real_default_leaves_on_a_small_panel(alpha158_small):
    X, y = alpha158_small
    X, y = X.iloc[:1500], y.iloc[:1500]  # the first 50 dates
    selector = ModelSelector(interpretability="high", random_state=0).fit(X, y)
    model = selector.estimator_
    assert isinstance(model, LightGBMRegressor)
    params = model.get_params()
    assert (params["num_leaves"], params["learning_rate"]) == (15, 0.05)
    assert (params["colsample_bytree"], params["subsample"]) == (0.8, 0.8)
    assert params["subsample_freq"] == 5 and model.n_features_in_ == 158

    linear = ModelSelector(random_state=0).fit(X, y)
    assert linear.selected_ == "linear"
    assert type(linear.estimator_[-1]) is Ridge
    assert np.isfinite(linear.predict(X)).all()
    # NaN features are fine: every default leaf fills or handles them
    X_nan = X.copy()
    X_nan.iloc[::7, 3] = np.nan
    assert np.isfinite(ModelSelector().fit(X_nan, y).predict(X_nan)).all()
    assert get_tags(ModelSelector()).input_tags.allow_nan


@pytest.fixture(scope="module")
def tiny_text_model(tmp_path_factory):
    """The text tests' tiny offline sentence-transformers model (16 dims)."""
    pytest.importorskip("sentence_transformers")
    spec = importlib.util.spec_from_file_location(
        "text_conftest", Path(__file__).parents[1] / "text" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_model(tmp_path_factory.mktemp("tiny_text"))


def _fine_tuned_embedder(stack):
    """The fitted embedder of the text_lightgbm member of a text_finetune stack."""
    name, member = stack.estimators[0]
    assert name == "text_lightgbm"
    built = {n: t for n, t, _ in member.named_steps["features"].transformers}
    built = built["text0"]
    # the built (unfitted) leaf asks for fine-tuning on terciles, one epoch
    assert built.fine_tune == "classification"
    assert built.fine_tune_bins == 3 and built.fine_tune_epochs == 1
    return stack.estimators_[0][0].named_transformers_["text0"]


def test_default_text_leaf_fine_tunes_on_labels(tiny_text_model, tweets):
    X, y = tweets
    X, y = X.iloc[:600], y.iloc[:600]
    selector = ModelSelector(
        performance="highest",
        sample_size=20_000,
        text_model=tiny_text_model,
        random_state=0,
    ).fit(X, y)
    assert selector.selected_ == "text_finetune"
    text = str(selector.decision_path_)
    assert "no LLM fine-tuning" not in text
    assert "fine-tunes the sentence encoder on terciles" in text
    assert "linear model on the frozen embeddings" in text
    stack = selector.estimator_
    assert [name for name, _ in stack.estimators] == ["text_lightgbm", "text_linear"]
    embedder = _fine_tuned_embedder(stack)
    assert embedder.embedding_dim_ == 16 and hasattr(embedder, "encoder_")
    # -1 / 0 / 1 labels are classes already: used as they are
    assert embedder.fine_tune_classes_.tolist() == [-1.0, 0.0, 1.0]
    assert not hasattr(embedder, "fine_tune_bin_edges_")
    # the linear member embeds with the frozen encoder
    linear_embedder = stack.estimators_[1][0].named_transformers_["text0"]
    assert linear_embedder.fine_tune is None
    assert selector.predict(X.iloc[:5]).shape == (5,)


def test_default_text_leaf_fine_tunes_on_terciles(tiny_text_model):
    rng = np.random.default_rng(0)
    n = 150
    words = np.array(["surge", "rally", "beat", "plunge", "slump", "miss"])
    drift = rng.normal(size=n)
    news = [
        f"{rng.choice(['apple', 'oil', 'fed'])} {words[int(d < 0) * 3 + i % 3]}"
        for i, d in enumerate(drift)
    ]
    X = pd.DataFrame(
        {"news": news, "mom": rng.normal(size=n), "vol": rng.normal(size=n)}
    )
    y = pd.Series(0.01 * drift + 0.002 * X["mom"] + 0.001 * rng.normal(size=n))
    selector = ModelSelector(
        performance="highest",
        sample_size=20_000,
        text_model=tiny_text_model,
        random_state=0,
    ).fit(X, y)
    assert selector.selected_ == "text_finetune"
    assert "linear model on the numeric columns" in str(selector.decision_path_)
    stack = selector.estimator_
    assert [name for name, _ in stack.estimators] == [
        "text_lightgbm",
        "numeric_linear",
    ]
    embedder = _fine_tuned_embedder(stack)
    assert hasattr(embedder, "encoder_") and len(embedder.fine_tune_loss_) == 1
    assert embedder.fine_tune_classes_.tolist() == [0, 1, 2]
    np.testing.assert_allclose(
        embedder.fine_tune_bin_edges_, np.quantile(y, [0, 1 / 3, 2 / 3, 1])
    )
    from skquant.text import SentenceEmbedder

    frozen = SentenceEmbedder(tiny_text_model).fit(news)
    assert np.abs(embedder.transform(news) - frozen.transform(news)).max() > 0
    pred = selector.predict(X.iloc[:7])
    assert pred.shape == (7,) and np.isfinite(pred).all()


# ------------------------------------------------------------ strategy="cv"
def _cv_leaves(n_features):
    from skquant.nn import ALSTMRegressor

    return {
        "linear": Ridge(alpha=10.0),
        "lightgbm": _tiny_lgbm(),
        "alstm": ALSTMRegressor(
            d_feat=n_features,
            hidden_size=4,
            num_layers=1,
            max_epochs=2,
            batch_size=512,
            early_stopping=None,
            n_threads=1,
            random_state=0,
            dtype="float64",
        ),
    }


def test_cv_picks_the_best_measured_ic(alpha158_small):
    X, y = alpha158_small
    leaves = _cv_leaves(X.shape[1])
    selector = ModelSelector(strategy="cv", **leaves).fit(X, y)
    results = pd.DataFrame(selector.cv_results_).drop(columns="n_splits")
    # rule 1 gives "linear"; its sibling and the leaf behind rule 1 are scored
    assert results["candidate"].tolist() == ["linear", "lightgbm", "alstm"]
    assert results["rule_choice"].tolist() == [True, False, False]
    best = results.loc[results["mean_test_score"].idxmax(), "candidate"]
    assert selector.selected_ == best
    assert results.loc[results["candidate"] == best, "rank_test_score"].item() == 1
    # the same folds and scorer by hand
    for name in results["candidate"]:
        manual = cross_val_score(
            clone(leaves[name]), X, y, cv=DateSplit(n_splits=3), scoring=ic_scorer
        )
        row = results[results["candidate"] == name]
        got = row[[f"split{i}_test_score" for i in range(3)]].to_numpy().ravel()
        np.testing.assert_allclose(got, manual, rtol=1e-9, atol=1e-12)
    lines = str(selector.decision_path_).splitlines()
    assert any(line.startswith("   cv: mean daily IC over 3") for line in lines)
    # refitted on all rows
    refit = clone(leaves[best]).fit(X, y)
    np.testing.assert_allclose(selector.predict(X), refit.predict(X), rtol=1e-6)


def test_cv_runs_in_parallel_through_joblib(alpha158_small):
    X, y = alpha158_small
    leaves = {"linear": Ridge(), "lightgbm": _tiny_lgbm(), "alstm": Ridge(alpha=1e3)}
    serial = ModelSelector(strategy="cv", cv=2, **leaves).fit(X, y)
    with parallel_config(backend="threading"):
        parallel = ModelSelector(strategy="cv", cv=2, n_jobs=2, **leaves).fit(X, y)
    np.testing.assert_allclose(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert serial.selected_ == parallel.selected_


def test_cv_failed_candidate_warns_and_loses(alpha158_small):
    X, y = alpha158_small

    class Broken(Ridge):
        def fit(self, X, y, sample_weight=None):
            raise RuntimeError("boom")

    leaves = {"linear": Broken(), "lightgbm": _tiny_lgbm(), "alstm": Ridge()}
    with pytest.warns(sklearn.exceptions.FitFailedWarning, match="boom"):
        selector = ModelSelector(strategy="cv", cv=2, **leaves).fit(X, y)
    assert selector.selected_ != "linear"
    assert "boom" in selector.cv_results_["error"][0]


def test_cv_without_dates_uses_row_order(alpha158_small):
    X, y = _as_arrays(alpha158_small)
    leaves = {"linear": Ridge(), "lightgbm": _tiny_lgbm(), "dnn": Ridge(alpha=100.0)}
    selector = ModelSelector(strategy="cv", **leaves).fit(X, y)
    # no dates: not temporal, so rule 1's fall-through is the DNN
    assert selector.cv_results_["candidate"].tolist() == ["linear", "lightgbm", "dnn"]
    assert np.isfinite(selector.cv_results_["mean_test_score"]).all()


# ----------------------------------------------------- meta-estimator contract
def test_nested_params_reach_the_leaves():
    from skquant.nn import ALSTMRegressor

    selector = ModelSelector(alstm=ALSTMRegressor())
    selector.set_params(alstm__hidden_size=32)
    assert selector.get_params()["alstm__hidden_size"] == 32
    assert "alstm__hidden_size" not in ModelSelector().get_params()
    with pytest.raises(ValueError, match="the 'alstm' leaf is None"):
        ModelSelector().set_params(alstm__hidden_size=32)
    both = ModelSelector().set_params(alstm=ALSTMRegressor(), alstm__hidden_size=8)
    assert both.alstm.hidden_size == 8


def test_tags_follow_the_leaves():
    assert get_tags(ModelSelector()).input_tags.allow_nan
    assert not get_tags(ModelSelector(linear=Ridge())).input_tags.allow_nan
    assert get_tags(ModelSelector(linear=_tiny_lgbm())).input_tags.allow_nan
    assert get_tags(ModelSelector()).estimator_type == "regressor"


def test_sample_weight_and_dates_reach_the_chosen_estimator(alpha158_small):
    X, y = _as_arrays(alpha158_small)
    dates = alpha158_small[0].index.get_level_values("datetime")
    w = np.random.default_rng(0).uniform(0.2, 2.0, len(y))
    selector = ModelSelector(linear=Ridge()).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(
        selector.predict(X), Ridge().fit(X, y, sample_weight=w).predict(X)
    )
    # the default linear leaf: the weights go to its Ridge step
    default = ModelSelector().fit(X, y, sample_weight=w)
    unweighted = ModelSelector().fit(X, y)
    assert not np.allclose(default.predict(X), unweighted.predict(X))
    # dates reach skquant models that take them (here: a time holdout)
    lgbm = LightGBMRegressor(
        n_estimators=20, validation_fraction=0.2, early_stopping_rounds=5, n_jobs=1
    )
    selector = ModelSelector(interpretability="high", lightgbm=lgbm)
    selector.fit(X, y, dates=dates)
    assert isinstance(selector.estimator_.validation_start_, pd.Timestamp)

    class NoWeights(Ridge):
        def fit(self, X, y):
            return super().fit(X, y)

    with pytest.raises(TypeError, match="cannot take sample_weight"):
        ModelSelector(linear=NoWeights()).fit(X, y, sample_weight=w)


def test_metadata_routing(alpha158_small):
    X, y = _as_arrays(alpha158_small)
    dates = alpha158_small[0].index.get_level_values("datetime").to_numpy()
    w = np.random.default_rng(0).uniform(0.2, 2.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        leaf = Ridge().set_fit_request(sample_weight=True)
        selector = ModelSelector(linear=leaf).fit(X, y, sample_weight=w, dates=dates)
        np.testing.assert_allclose(
            selector.predict(X), Ridge().fit(X, y, sample_weight=w).predict(X)
        )
        # the default leaves request sample_weight and dates themselves
        ModelSelector().fit(X, y, sample_weight=w, dates=dates)
        search = GridSearchCV(
            ModelSelector(linear=leaf).set_score_request(sample_weight=False),
            {"linear__alpha": [0.1, 100.0]},
            cv=DateSplit(n_splits=3),
        ).fit(X, y, sample_weight=w, groups=dates)
        assert search.best_estimator_.characteristics_.temporal  # groups reached it
    with pytest.raises(ValueError, match="needs metadata routing"):
        ModelSelector().fit(X, y, eval_set=None, foo=1)


def test_pipeline_and_grid_search(alpha158_small):
    X, y = alpha158_small
    pipe = make_pipeline(StandardScaler(), ModelSelector(linear=Ridge()))
    assert pipe.fit(X, y).predict(X).shape == (len(y),)
    assert pipe[-1].selected_ == "linear"
    search = GridSearchCV(
        ModelSelector(lightgbm=_tiny_lgbm(), linear=Ridge()),
        {"interpretability": ["high", "medium"], "linear__alpha": [1.0, 100.0]},
        cv=DateSplit(n_splits=3),
        scoring=ic_scorer,
    ).fit(X, y)
    assert search.best_estimator_.selected_ in {"lightgbm", "linear"}
    assert len(search.cv_results_["params"]) == 4


def test_decision_path_is_a_table(alpha158_small):
    selector = ModelSelector(linear=Ridge()).fit(*alpha158_small)
    frame = selector.decision_path_.to_frame()
    assert frame.columns.tolist() == [
        "rule",
        "test",
        "observed",
        "matched",
        "leaf",
        "detail",
    ]
    assert frame["leaf"].iloc[0] == "linear" and pd.isna(frame["leaf"].iloc[1])
    assert frame["rule"].tolist() == [1, "note"]
    assert "DecisionPath(" in repr(selector.decision_path_)
    assert "sample_size: 3,000" in str(selector.characteristics_)


def test_errors(alpha158_small, mixed):
    X, y = alpha158_small
    with pytest.raises(ValueError, match="text_columns"):
        ModelSelector(text_columns=["headline"]).fit(X, y)
    with pytest.raises(ValueError, match="d_feat=7 does not divide"):
        ModelSelector(d_feat=7).fit(X, y)
    with pytest.raises(ValueError, match="square"):
        ModelSelector(relations=np.ones((3, 4))).fit(X, y)
    with pytest.raises(ValueError, match="dates once"):
        ModelSelector().fit(X, y, dates=np.zeros(len(y)), groups=np.zeros(len(y)))
    with pytest.raises(ValueError, match="requires y"):
        ModelSelector().fit(X, None)
    bad = mixed[0].iloc[:100].assign(when=pd.Timestamp("2017-01-03"))
    with pytest.raises(TypeError, match="cannot classify"):
        ModelSelector().fit(bad, mixed[1].iloc[:100])
    odd = mixed[0].iloc[:100].assign(note=["a"] * 50 + [1.0] * 50)
    odd["note"] = odd["note"].astype(object)
    with pytest.raises(TypeError, match="mixes text"):
        ModelSelector().fit(odd, mixed[1].iloc[:100])


def test_text_columns_override(tweets):
    X, y = tweets
    X = X.iloc[:300].assign(source=lambda f: np.where(f.index % 2, "wire", "blog"))
    selector = ModelSelector(
        text_columns=["text"],
        sample_size=20_000,
        text_features=make_pipeline(
            ColumnTransformer([("t", HashingVectorizer(n_features=64), "text")]),
            Ridge(),
        ),
    ).fit(X, y.iloc[:300])
    assert selector.characteristics_.text_columns == ("text",)
    assert selector.characteristics_.categorical_columns == ("source",)
    assert selector.characteristics_.sources["text"] == "text_columns parameter"
