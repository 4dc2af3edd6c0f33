"""The nets' docstrings: every parameter documented, shared text kept in sync."""

from __future__ import annotations

import inspect

import pytest

import skquant.nn

ClassDoc = pytest.importorskip("numpydoc.docscrape").ClassDoc

NETS = [getattr(skquant.nn, name) for name in skquant.nn.__all__]
SHARED = list(inspect.signature(skquant.nn._base._BaseNetRegressor).parameters)


def _params(cls):
    return {p.name: p for p in ClassDoc(cls)["Parameters"]}


@pytest.mark.parametrize("cls", NETS, ids=lambda c: c.__name__)
def test_parameters_and_defaults_are_documented(cls):
    documented = _params(cls)
    signature = inspect.signature(cls).parameters
    assert list(documented) == list(signature)
    for name, param in signature.items():
        default = param.default
        shown = {f"default={default!r}", f'default="{default}"', f"default={default}"}
        assert any(text in documented[name].type for text in shown), name
    attributes = {a.name for a in ClassDoc(cls)["Attributes"]}
    assert {"net_", "history_", "best_epoch_", "validation_start_"} <= attributes


def test_shared_parameter_text_is_identical():
    reference = _params(skquant.nn.ALSTMRegressor)
    for cls in NETS:
        documented = _params(cls)
        for name in SHARED:
            assert documented[name].desc == reference[name].desc, (cls, name)
