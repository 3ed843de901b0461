"""The package as a whole: public surface, documented fitted state, module sizes."""

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import skmed2vec
from skmed2vec.datasets import make_cohort

PACKAGE = Path(skmed2vec.__file__).parent
ROOT = PACKAGE.parent


def _run(code):
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_star_import_does_not_load_torch_and_nn_does():
    assert _run("import sys\nfrom skmed2vec import *\nprint('torch' in sys.modules)") == "False"
    code = "import sys\nfrom skmed2vec.nn import TemporalMed2Vec\nprint('torch' in sys.modules)"
    assert _run(code) == "True"
    assert "TemporalMed2Vec" not in skmed2vec.__all__


def _public_estimators():
    return [
        getattr(skmed2vec, name)
        for name in skmed2vec.__all__
        if inspect.isclass(getattr(skmed2vec, name)) and hasattr(getattr(skmed2vec, name), "fit")
    ]


def _documented_attributes(cls):
    """Names listed in the Attributes section of the class docstring."""
    doc = inspect.getdoc(cls)
    section = re.search(r"^Attributes\n-+\n(.*?)(?:\n\S[^\n]*\n-+\n|\Z)", doc, re.S | re.M)
    assert section, f"{cls.__name__} has no Attributes section"
    return set(re.findall(r"^(\w+) :", section.group(1), re.M))


@pytest.mark.parametrize("cls", _public_estimators(), ids=lambda cls: cls.__name__)
def test_fitted_attributes_are_the_documented_ones(cls):
    X = make_cohort(60, random_state=0).X
    params = {"embed_dim": 4, "epochs": 1, "random_state": 0}
    estimator = cls(**{k: v for k, v in params.items() if k in cls().get_params()}).fit(X)
    fitted = {k for k in vars(estimator) if k.endswith("_") and not k.startswith("_")}
    assert fitted == _documented_attributes(cls)


def test_modules_stay_small():
    sizes = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 650} == {}


def test_loggers_live_under_the_package_logger():
    names = set()
    for path in PACKAGE.rglob("*.py"):
        names.update(re.findall(r"getLogger\(([^)]*)\)", path.read_text()))
    assert names <= {"__name__"}, names
