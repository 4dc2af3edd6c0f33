"""Import-time promises of the public API."""

import subprocess
import sys

import pytest

import skquant

HEAVY = ("torch", "skorch", "sentence_transformers", "transformers", "shap")


def test_import_skquant_stays_light():
    code = (
        "import sys, skquant, skquant.datasets, skquant.features, "
        "skquant.preprocessing, skquant.metrics, skquant.model_selection; "
        "skquant.all_estimators(); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_version_is_exposed():
    assert skquant.__version__.count(".") == 2


def test_all_estimators_filters():
    everything = skquant.all_estimators()
    transformers = skquant.all_estimators(type_filter="transformer")
    assert transformers and set(transformers) <= set(everything)
    assert everything == sorted(everything)
    with pytest.raises(ValueError, match="type_filter"):
        skquant.all_estimators(type_filter="spaceship")
