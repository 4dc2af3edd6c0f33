"""skquant.explain.explain on real data: exact tree SHAP (additivity), nets and
pipelines (shapes and names), the time-respecting background, text."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from skquant.datasets import load_financial_tweets, load_sp500
from skquant.explain import explain, shap_by_date
from skquant.explain._shap import _background
from skquant.features import Alpha158, Alpha360, SequenceWindower, forward_return
from skquant.gbdt import DoubleEnsembleRegressor, LightGBMRegressor, XGBoostRegressor
from skquant.model_selection import ModelSelector
from skquant.preprocessing import (
    CrossSectionalTargetRegressor,
    RobustZScoreNorm,
    drop_missing_label,
)

shap = pytest.importorskip("shap")

FACTORS = ["ROC5", "ROC20", "STD20", "MA5", "VSTD20", "KMID", "RSQR20", "CORR20"]


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    # LightGBM's OpenMP threads thrash on the 2 shared CI cores
    with threadpool_limits(1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def sp500():
    panel = load_sp500(start="2016-06-01", end="2017-03-31")
    keep = sorted(panel.index.get_level_values("instrument").unique())[:20]
    return panel[panel.index.get_level_values("instrument").isin(keep)]


@pytest.fixture(scope="module")
def data(sp500):
    """Eight Alpha158 factors (NaN kept) and Qlib's label; train / test by date."""
    X = Alpha158().fit_transform(sp500)[FACTORS]
    X, y = drop_missing_label(X, forward_return(sp500))
    dates = X.index.get_level_values("datetime")
    train = dates < pd.Timestamp("2017-02-01")
    return X[train], y[train], X[~train], y[~train]


def _additive(sv, predictions, atol=1e-8):
    np.testing.assert_allclose(
        sv.values.sum(axis=1) + sv.base_values, predictions, rtol=1e-6, atol=atol
    )


# ----------------------------------------------------------- tree SHAP
@pytest.mark.parametrize(
    "model",
    [
        LightGBMRegressor(
            n_estimators=200,
            validation_fraction=0.2,
            early_stopping_rounds=5,
            n_jobs=1,
            random_state=0,
        ),
        XGBoostRegressor(
            n_estimators=200,
            validation_fraction=0.2,
            early_stopping_rounds=5,
            n_jobs=1,
            random_state=0,
        ),
        DoubleEnsembleRegressor(
            LightGBMRegressor(n_estimators=20, n_jobs=1), num_models=3, random_state=0
        ),
    ],
    ids=["lightgbm", "xgboost", "double_ensemble"],
)
def test_gradient_boosting_is_exactly_additive(data, model):
    X_train, y_train, X_test, _ = data
    model.fit(X_train, y_train)
    if hasattr(model, "best_iteration_"):
        assert model.best_iteration_ < 200  # early stopping: predict uses fewer trees
    sv = explain(model, X_test)
    assert sv.values.shape == X_test.shape
    assert sv.feature_names == FACTORS
    assert sv.instance_names[0] == X_test.index[0]  # the panel index rides along
    _additive(sv, model.predict(X_test), atol=1e-6)


def test_tree_shap_with_a_background_is_interventional(data):
    X_train, y_train, X_test, _ = data
    model = LightGBMRegressor(n_estimators=30, n_jobs=1).fit(X_train, y_train)
    sv = explain(model, X_test, background=X_train, max_background=50)
    _additive(sv, model.predict(X_test), atol=1e-6)
    path_dependent = explain(model, X_test)
    assert not np.allclose(sv.base_values, path_dependent.base_values)


def test_pipeline_is_explained_in_its_transformed_space(data):
    X_train, y_train, X_test, _ = data
    pipe = make_pipeline(
        RobustZScoreNorm(),
        SimpleImputer(),
        LightGBMRegressor(n_estimators=30, n_jobs=1),
    ).fit(X_train, y_train)
    sv = explain(pipe, X_test)
    assert sv.feature_names == FACTORS  # traced through both transformers
    expected = pipe[:-1].transform(X_test)
    np.testing.assert_allclose(sv.data, expected)  # transformed values shown
    _additive(sv, pipe.predict(X_test), atol=1e-6)


# ------------------------------------------------- wrappers and linear
def test_model_selector_and_target_wrapper(data):
    X_train, y_train, X_test, _ = data
    selector = ModelSelector(
        interpretability="high", lightgbm=LightGBMRegressor(n_estimators=30, n_jobs=1)
    ).fit(X_train, y_train)
    assert selector.selected_ == "lightgbm"
    _additive(explain(selector, X_test), selector.predict(X_test), atol=1e-6)

    default = ModelSelector().fit(X_train, y_train)  # the default linear leaf
    sv = explain(default, X_test)
    assert sv.feature_names == FACTORS
    _additive(sv, default.predict(X_test))

    # a pipeline ending in a selector whose choice is a pipeline: both heads
    nested = make_pipeline(SimpleImputer(), ModelSelector()).fit(X_train, y_train)
    sv = explain(nested, X_test)
    assert sv.feature_names == FACTORS
    _additive(sv, nested.predict(X_test))

    wrapped = CrossSectionalTargetRegressor(
        LightGBMRegressor(n_estimators=30, n_jobs=1)
    ).fit(X_train, y_train)
    _additive(explain(wrapped, X_test), wrapped.predict(X_test), atol=1e-6)


def test_default_background_comes_from_the_earliest_dates(data):
    X_train, y_train, X_test, _ = data
    pipe = make_pipeline(SimpleImputer(), Ridge()).fit(X_train, y_train)
    dates = X_test.index.get_level_values("datetime")
    first = dates.unique().sort_values()
    early = X_test[dates <= first[int(np.ceil(0.2 * len(first))) - 1]]
    sv = explain(pipe, X_test, max_background=10_000)
    # a linear model's base value is its mean prediction on the background
    np.testing.assert_allclose(sv.base_values, pipe.predict(early).mean())

    bg = _background(
        X_test,
        None,
        dates.to_numpy(),
        max_background=30,
        fraction=0.2,
        rng=np.random.RandomState(0),
    )
    bg_dates = bg.index.get_level_values("datetime")
    assert len(bg) == 30 and bg_dates.max() <= early.index[-1][0]
    assert bg_dates.is_monotonic_increasing  # a time-sorted sample
    rows = _background(
        X_test.to_numpy(),
        None,
        None,
        max_background=1000,
        fraction=0.1,
        rng=np.random.RandomState(0),
    )
    np.testing.assert_array_equal(
        rows, X_test.to_numpy()[: int(np.ceil(0.1 * len(X_test)))]
    )


# ------------------------------------------------------------------ nets
def test_nets_get_gradient_explanations_with_names(sp500):
    from skquant.nn import ALSTMRegressor, DNNRegressor

    X = Alpha360().fit_transform(sp500)
    X, y = drop_missing_label(X, forward_return(sp500))
    X = X.fillna(0.0)
    net = {"max_epochs": 1, "early_stopping": None, "n_threads": 1, "random_state": 0}
    alstm = ALSTMRegressor(d_feat=6, hidden_size=4, num_layers=1, **net).fit(X, y)
    sv = explain(alstm, X.iloc[-6:], nsamples=20)
    assert sv.values.shape == (6, 360)
    assert sv.feature_names[:2] == ["CLOSE59", "CLOSE58"]
    assert np.isfinite(sv.values).all() and np.isfinite(sv.base_values).all()
    assert sv.instance_names == list(X.index[-6:])

    dnn = make_pipeline(RobustZScoreNorm(), DNNRegressor(layers=(8,), **net))
    dnn.fit(X.iloc[:, :12], y)
    sv = explain(dnn, X.iloc[-5:, :12], nsamples=20)
    assert sv.values.shape == (5, 12)
    assert sv.feature_names == list(X.columns[:12])
    # expected gradients are additive on average, not exactly
    gap = sv.values.sum(1) + sv.base_values - dnn.predict(X.iloc[-5:, :12])
    assert np.abs(gap).mean() < 5 * np.std(dnn.predict(X.iloc[:, :12]))


def test_windowed_pipeline_names_the_lags(data):
    from skquant.nn import GRURegressor

    X_train, y_train, X_test, _ = data
    pipe = make_pipeline(
        RobustZScoreNorm(),
        SimpleImputer(),
        SequenceWindower(step_len=3),
        GRURegressor(
            d_feat=8,
            hidden_size=4,
            num_layers=1,
            max_epochs=1,
            early_stopping=None,
            n_threads=1,
            random_state=0,
        ),
    ).set_output(transform="pandas")
    pipe.fit(X_train, y_train)
    sv = explain(pipe, X_test.iloc[:5], nsamples=20)
    assert sv.values.shape == (5, 24)
    assert sv.feature_names[:3] == ["ROC5_lag2", "ROC5_lag1", "ROC5_lag0"]


# ------------------------------------------------------ model-agnostic
def test_other_models_get_permutation_shap(data):
    X_train, y_train, X_test, _ = data
    knn = make_pipeline(SimpleImputer(), KNeighborsRegressor(20)).fit(X_train, y_train)
    sv = explain(knn, X_test.iloc[:4], max_background=20)
    assert sv.values.shape == (4, 8) and sv.feature_names == FACTORS
    _additive(sv, knn.predict(X_test.iloc[:4]))
    # forcing it on a pipeline explains the whole pipeline per input column
    pipe = make_pipeline(SimpleImputer(), Ridge()).fit(X_train, y_train)
    whole = explain(pipe, X_test.iloc[:4], method="permutation", max_background=20)
    _additive(whole, pipe.predict(X_test.iloc[:4]))
    np.testing.assert_allclose(whole.data, X_test.iloc[:4].to_numpy())


def test_categorical_columns_are_masked_as_whole_values(data):
    X_train, y_train, X_test, _ = data
    add = {"instrument": lambda f: pd.Categorical(f.index.get_level_values(1))}
    X_train, X_test = X_train.assign(**add), X_test.assign(**add)
    model = LightGBMRegressor(n_estimators=20, n_jobs=1).fit(X_train, y_train)
    sv = explain(model, X_test.iloc[:4], method="permutation", max_background=20)
    assert sv.feature_names[-1] == "instrument"
    _additive(sv, model.predict(X_test.iloc[:4]))


# ------------------------------------------------------------------ text
@pytest.fixture(scope="module")
def tweets():
    frame = load_financial_tweets("valid").iloc[:400]
    return frame["text"], frame["label"].map({0: -1.0, 1: 1.0, 2: 0.0})


def test_text_only_pipelines_get_token_level_values(tweets):
    texts, y = tweets
    pipe = make_pipeline(HashingVectorizer(n_features=2**12), Ridge()).fit(texts, y)
    sv = explain(pipe, texts.iloc[:2], max_evals=40)
    assert len(sv.values) == 2
    assert len(sv.values[0]) == len(sv.data[0]) > 3  # one value per token
    assert "".join(sv.data[0]) == texts.iloc[0]
    totals = [v.sum() + b for v, b in zip(sv.values, sv.base_values, strict=True)]
    np.testing.assert_allclose(totals, pipe.predict(texts.iloc[:2]), atol=1e-8)
    # ModelSelector on a one-column frame of texts: the frame is rebuilt
    selector = ModelSelector(
        sample_size=20_000,
        text_features=make_pipeline(
            make_column_transformer((HashingVectorizer(n_features=2**12), "text")),
            Ridge(),
        ),
    ).fit(texts.to_frame("text"), y)
    sv = explain(selector, texts.to_frame("text").iloc[:1], max_evals=40)
    assert len(sv.values[0]) == len(sv.data[0])


def test_mixed_text_and_numbers_says_so(tweets):
    texts, y = tweets
    X = pd.DataFrame({"text": texts.to_numpy(), "n": np.arange(len(y), dtype=float)})
    selector = ModelSelector(
        sample_size=20_000,
        text_features=make_pipeline(
            make_column_transformer(
                (HashingVectorizer(n_features=256), "text"), remainder="passthrough"
            ),
            Ridge(),
        ),
    ).fit(X, y)
    with pytest.warns(UserWarning, match="token-level SHAP needs a text-only"):
        sv = explain(selector, X.iloc[:3], max_background=10)
    assert sv.feature_names == ["text", "n"]
    _additive(sv, selector.predict(X.iloc[:3]))
    with pytest.raises(ValueError, match="text-only input"):
        explain(selector, X.iloc[:3], method="text")


# ------------------------------------------------------------ by date
def test_shap_by_date(data):
    X_train, y_train, X_test, _ = data
    model = LightGBMRegressor(n_estimators=20, n_jobs=1).fit(X_train, y_train)
    sv = explain(model, X_test)
    frame = shap_by_date(sv)
    dates = X_test.index.get_level_values("datetime")
    assert frame.index.equals(pd.Index(dates.unique().sort_values(), name="datetime"))
    assert list(frame.columns) == FACTORS
    manual = pd.DataFrame(np.abs(sv.values), index=dates).groupby(level=0).mean()
    np.testing.assert_allclose(frame.to_numpy(), manual.to_numpy())
    signed = shap_by_date(sv, statistic="mean")
    assert (signed.abs() <= frame + 1e-15).all().all()
    bare = explain(model, X_test.to_numpy())
    assert bare.instance_names is None and bare.feature_names == FACTORS
    with pytest.raises(ValueError, match="carries no dates"):
        shap_by_date(bare)
    assert shap_by_date(bare, dates=dates).equals(frame)
    with_dates = explain(model, X_test.to_numpy(), dates=dates)
    assert shap_by_date(with_dates).equals(frame)


def test_argument_errors(data):
    X_train, y_train, X_test, _ = data
    model = LightGBMRegressor(n_estimators=5, n_jobs=1).fit(X_train, y_train)
    with pytest.raises(ValueError, match="method must be one of"):
        explain(model, X_test, method="deep")
    with pytest.raises(ValueError, match="max_background"):
        explain(model, X_test, max_background=0)
    with pytest.raises(ValueError, match="background_fraction"):
        explain(model, X_test, background_fraction=0.0)
    with pytest.raises(ValueError, match="gradient"):
        explain(model, X_test, method="gradient")
    with pytest.raises(ValueError, match="does not apply to a pipeline"):
        explain(
            make_pipeline(SimpleImputer(), KNeighborsRegressor()).fit(X_train, y_train),
            X_test,
            method="tree",
        )


def test_import_stays_light():
    code = (
        "import sys, skquant.explain; "
        "print([m for m in ('shap', 'torch', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
