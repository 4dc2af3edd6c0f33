"""The nets inside scikit-learn's composition tools, end to end on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skquant.features import SequenceWindower
from skquant.metrics import ic_scorer, information_coefficient, make_ic_scorer
from skquant.model_selection import DateSplit
from skquant.nn import ALSTMRegressor, LSTMRegressor

FAST = {"n_threads": 1, "random_state": 0, "batch_size": 512, "max_epochs": 2}


def test_grid_search_with_date_split_and_ic_scorer(alpha360_data):
    X, y = alpha360_data
    search = GridSearchCV(
        ALSTMRegressor(num_layers=1, lr=3e-3, **FAST),
        {"hidden_size": [4, 8]},
        cv=DateSplit(n_splits=2),
        scoring=ic_scorer,
        refit=True,
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and np.all(np.abs(scores) < 1)
    assert search.best_params_["hidden_size"] in (4, 8)
    # the refitted net predicts a panel, scored by date
    assert np.isfinite(search.score(X, y))
    # inside the search every fit held out its own last dates for validation
    assert search.best_estimator_.validation_start_ > X.index[0][0]


def test_stacking_alstm_and_lightgbm(alpha360_data):
    from sklearn.ensemble import StackingRegressor

    from skquant.gbdt import LightGBMRegressor

    X, y = alpha360_data
    test = X.index.get_level_values("datetime") >= pd.Timestamp("2017-09-01")
    stack = StackingRegressor(
        [
            ("alstm", ALSTMRegressor(hidden_size=8, num_layers=1, **FAST)),
            (
                "lgbm",
                LightGBMRegressor(
                    n_estimators=20,
                    num_leaves=8,
                    verbose=-1,
                    early_stopping_rounds=None,
                ),
            ),
        ],
        final_estimator=RidgeCV(),
        # a purged K-fold over dates: every row gets an out-of-fold prediction
        cv=DateSplit(n_splits=2, mode="kfold"),
    ).fit(X[~test], y[~test])
    pred = stack.predict(X[test])
    assert pred.shape == (int(test.sum()),) and np.isfinite(pred).all()
    assert np.isfinite(information_coefficient(y[test], pred).mean())


def test_pipeline_windower_alstm_on_alpha158_selection(sp500_slice):
    from sklearn.impute import SimpleImputer

    from skquant.features import ALPHA158_SELECTED_20, Alpha158, forward_return
    from skquant.preprocessing import RobustZScoreNorm, cs_rank_norm

    panel = sp500_slice.loc[pd.Timestamp("2017-03-01") :]
    features = Alpha158().fit_transform(panel)[list(ALPHA158_SELECTED_20)]
    y = cs_rank_norm(forward_return(panel))
    keep = y.notna().to_numpy()
    features, y = features[keep], y[keep]
    pipe = Pipeline(
        [
            ("scale", RobustZScoreNorm()),
            ("fill", SimpleImputer(strategy="constant", fill_value=0.0)),
            ("window", SequenceWindower(step_len=20)),
            ("alstm", ALSTMRegressor(d_feat=20, hidden_size=8, num_layers=1, **FAST)),
        ]
    )
    # SequenceWindower needs the panel index: keep pandas output up to it
    pipe.set_output(transform="pandas")
    pipe.fit(features, y)
    assert pipe[-1].n_features_in_ == 20 * 20
    assert isinstance(pipe[-1].validation_start_, pd.Timestamp)  # dates were seen
    pred = pipe.predict(features.iloc[-200:])
    assert pred.shape == (200,) and np.isfinite(pred).all()


def test_nets_fit_on_windowed_arrays_too(sp500_slice):
    raw = np.log(sp500_slice[["close", "volume"]]).groupby(level="instrument").diff()
    raw = raw.fillna(0.0)
    X = SequenceWindower(step_len=5).fit_transform(raw)
    y = raw["close"].groupby(level="instrument").shift(-1).fillna(0.0)
    model = LSTMRegressor(d_feat=2, hidden_size=4, **FAST).fit(X.to_numpy(), y)
    assert model.validation_start_ == int(round(0.8 * len(X)))


@pytest.mark.parametrize("routing", [False, True])
def test_dates_reach_the_net_inside_a_search(alpha360_data, routing):
    from sklearn import config_context

    X, y = alpha360_data
    X, y = X.iloc[:4000], y.iloc[:4000]
    dates = np.asarray(X.index.get_level_values("datetime"))
    model = ALSTMRegressor(hidden_size=4, num_layers=1, early_stopping="ic", **FAST)
    with config_context(enable_metadata_routing=routing):
        if routing:
            # one `groups` array feeds DateSplit and the net; the scorer
            # takes `dates`
            model.set_fit_request(groups=True, dates=False)
            scorer = make_ic_scorer().set_score_request(dates=True)
            params = {"groups": dates, "dates": dates}
        else:
            scorer, params = ic_scorer, {}
        search = GridSearchCV(
            model, {"lr": [1e-3]}, cv=DateSplit(n_splits=2), scoring=scorer
        )
        # arrays in, dates as metadata: the IC early stopping still works
        search.fit(X.to_numpy() if routing else X, y.to_numpy(), **params)
    assert np.isfinite(search.best_estimator_.history_[:, "valid_ic"]).all()
