"""Dev-only generator of the linear-probe golden files (the app and its tests never run Python).

Fits scikit-learn's LogisticRegression (lbfgs, L2) on seeded synthetic embeddings with the
UNI/FMC convention C = dim x classes / 100, features not standardised (as UNI's evaluation), and
a tolerance far below the default so the saved solution is the optimum to ~1e-10:

    tests/unit/training/golden/linear-probe-binary.{json,bin}      300 samples x 16 features, 2 classes
    tests/unit/training/golden/linear-probe-3class.{json,bin}      240 samples x 32 features, 3 classes

Tensors (float64): features [n, dim], labels [n] (class indices), coef [rows, dim],
intercept [rows], proba [n, classes]; rows is 1 for binary (scikit-learn's single-coefficient
form), the class count otherwise. meta holds C, the objective sum(log-loss) + ||coef||^2 / (2C)
at the saved solution, and the versions.

Run from the repository root:  python3 tools/reference/training/make_linear_probe_golden.py
Needs numpy and scikit-learn (pip install --user scikit-learn).
"""

import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_bundle import write_bundle  # noqa: E402

OUT = os.path.join("tests", "unit", "training", "golden")


def embeddings(seed, samples, dim, classes):
    """Overlapping classes on uneven feature scales and offsets, as raw embeddings have."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, samples)
    centres = rng.normal(0.0, 0.25, (classes, dim))
    scales = rng.uniform(0.3, 3.0, dim)
    offsets = rng.normal(0.0, 2.0, dim)
    features = (centres[labels] + rng.normal(0.0, 1.0, (samples, dim))) * scales + offsets
    return features, labels


def objective(features, labels, coef, intercept, c):
    logits = features @ coef.T + intercept
    if coef.shape[0] == 1:
        signs = np.where(labels == 1, 1.0, -1.0)
        log_loss = np.logaddexp(0.0, -signs * logits[:, 0]).sum()
    else:
        log_loss = (np.logaddexp.reduce(logits, axis=1) - logits[np.arange(len(labels)), labels]).sum()
    return float(log_loss + (coef**2).sum() / (2 * c))


def case(name, seed, samples, dim, classes):
    features, labels = embeddings(seed, samples, dim, classes)
    c = dim * classes / 100
    model = LogisticRegression(C=c, solver="lbfgs", tol=1e-12, max_iter=100_000)
    model.fit(features, labels)
    meta = {
        "description": f"{samples} samples x {dim} features, {classes} classes, seed {seed}, raw (unstandardised) features",
        "samples": samples,
        "dim": dim,
        "classCount": classes,
        "C": c,
        "objective": objective(features, labels, model.coef_, model.intercept_, c),
        "iterations": int(model.n_iter_[0]),
        "generator": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; LogisticRegression(C={c}, solver='lbfgs', tol=1e-12)",
    }
    write_bundle(
        os.path.join(OUT, f"linear-probe-{name}"),
        {
            "features": ("float64", features),
            "labels": ("float64", labels),
            "coef": ("float64", model.coef_),
            "intercept": ("float64", model.intercept_),
            "proba": ("float64", model.predict_proba(features)),
        },
        meta,
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    case("binary", 11, 300, 16, 2)
    case("3class", 12, 240, 32, 3)


if __name__ == "__main__":
    main()
