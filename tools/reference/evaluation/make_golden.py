"""Dev-only generator of the evaluation golden file (the app and its tests never run Python).

Draws a few small seeded prediction sets and records scikit-learn's own metric values for them, so
the TypeScript metrics in src-main/services/evaluation/ are checked against the library the paper's
code used:

    tests/unit/evaluation/golden/metrics.json     classification cases and their sklearn values
    tests/unit/evaluation/golden/agreement.json   Cohen's / Fleiss' kappa (sklearn, statsmodels),
                                                  Bland-Altman and ICC(2,1) (NumPy ANOVA formulas)

Cases: binary, binary with many tied scores, 3-class, a binary set with no positive cell and a
3-class set where class 1 is never true. NaN is written as null; roc_curve's leading +inf
threshold is left out (the test checks it separately).

Run from the repository root:  python3 tools/reference/evaluation/make_golden.py
Needs scikit-learn and statsmodels (pip install --user scikit-learn statsmodels).
"""

import json
import math
import os
import warnings

import numpy as np
import sklearn
import statsmodels
from sklearn import metrics
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

OUT_DIR = os.path.join("tests", "unit", "evaluation", "golden")


def clean(value):
    """JSON-safe: NumPy arrays and scalars to Python, NaN to null."""
    if isinstance(value, dict):
        return {key: clean(v) for key, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [clean(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def binary_case(name, rng, n, positive_rate, decimals=None):
    y_true = (rng.random(n) < positive_rate).astype(int)
    # Positives score higher on average; negatives overlap them, so the AUROC is below 1.
    scores = 1 / (1 + np.exp(-(rng.normal(0, 1.2, n) + 1.5 * (y_true * 2 - 1))))
    if decimals is not None:
        scores = np.round(scores, decimals)
    y_pred = (scores >= 0.5).astype(int)
    return {"name": name, "classCount": 2, "yTrue": y_true, "yPred": y_pred, "positiveScores": scores}


def multiclass_case(name, rng, n, never_true=None):
    y_true = rng.integers(0, 3, n)
    if never_true is not None:
        y_true[y_true == never_true] = (never_true + 1) % 3
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), y_true] += 1.2
    rows = softmax(logits)
    y_pred = rows.argmax(axis=1)
    return {"name": name, "classCount": 3, "yTrue": y_true, "yPred": y_pred, "scoreRows": rows}


def sklearn_values(case):
    y_true, y_pred, k = case["yTrue"], case["yPred"], case["classCount"]
    labels = list(range(k))
    values = {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balancedAccuracy": metrics.balanced_accuracy_score(y_true, y_pred),
        "weightedF1": metrics.f1_score(y_true, y_pred, average="weighted"),
        "quadraticKappa": metrics.cohen_kappa_score(y_true, y_pred, weights="quadratic", labels=labels),
        "confusionMatrix": metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "recallPerClass": metrics.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=np.nan),
        # Specificity of class c is the recall of "not c".
        "specificityPerClass": [
            metrics.recall_score(y_true != c, y_pred != c, zero_division=np.nan) for c in labels
        ],
    }
    if "positiveScores" in case:
        scores = case["positiveScores"]
        values["auroc"] = metrics.roc_auc_score(y_true, scores)  # NaN (warning) with one class only
        values["averagePrecision"] = metrics.average_precision_score(y_true, scores)
        fpr, tpr, thresholds = metrics.roc_curve(y_true, scores)
        values["rocCurve"] = {"falsePositiveRate": fpr, "truePositiveRate": tpr, "thresholdsAfterInfinity": thresholds[1:]}
    else:
        try:
            values["macroOneVsRestAuroc"] = metrics.roc_auc_score(y_true, case["scoreRows"], multi_class="ovr", average="macro")
        except ValueError:
            values["macroOneVsRestAuroc"] = float("nan")  # sklearn refuses: a class has no true cell
    return values


def icc_2_1(ratings):
    """ICC(2,1), Shrout & Fleiss 1979, from the two-way ANOVA mean squares."""
    n, k = ratings.shape
    grand = ratings.mean()
    ss_rows = k * ((ratings.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((ratings.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((ratings - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)


def agreement_golden(rng):
    truth = rng.integers(0, 3, 80)
    first = np.where(rng.random(80) < 0.75, truth, rng.integers(0, 3, 80))
    second = np.where(rng.random(80) < 0.6, truth, rng.integers(0, 3, 80))
    raters = np.stack([np.where(rng.random(40) < 0.7, truth[:40], rng.integers(0, 3, 40)) for _ in range(4)], axis=1)
    counts_per_slide = rng.poisson(12, 25).astype(float)
    predicted = np.round(counts_per_slide * 1.1 + rng.normal(0, 2, 25))
    differences = predicted - counts_per_slide
    mean_difference, sd_difference = differences.mean(), differences.std(ddof=1)
    return {
        "cohen": {
            "firstRater": first, "secondRater": second,
            "kappa": metrics.cohen_kappa_score(first, second),
            "linearKappa": metrics.cohen_kappa_score(first, second, weights="linear", labels=[0, 1, 2]),
        },
        "fleiss": {"ratingsPerCell": raters, "kappa": fleiss_kappa(aggregate_raters(raters)[0], method="fleiss")},
        "clinical": {
            "predicted": predicted, "annotated": counts_per_slide,
            "meanDifference": mean_difference, "sdDifference": sd_difference,
            "lowerLimit": mean_difference - 1.96 * sd_difference, "upperLimit": mean_difference + 1.96 * sd_difference,
            "icc21": icc_2_1(np.stack([predicted, counts_per_slide], axis=1)),
        },
    }


def main():
    warnings.simplefilter("ignore")  # the one-class cases warn by design
    rng = np.random.default_rng(20240611)
    cases = [
        binary_case("binary", rng, 240, 0.25),
        binary_case("binary-ties", rng, 180, 0.3, decimals=1),
        multiclass_case("three-class", rng, 150),
        binary_case("binary-no-positive", rng, 60, 0.0, decimals=2),
        multiclass_case("three-class-class-1-never-true", rng, 90, never_true=1),
    ]
    versions = {"sklearn": sklearn.__version__, "numpy": np.__version__, "statsmodels": statsmodels.__version__}
    golden = {"versions": versions, "cases": [{**case, "sklearn": sklearn_values(case)} for case in cases]}
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "metrics.json"), "w") as f:
        json.dump(clean(golden), f, separators=(",", ":"))
    with open(os.path.join(OUT_DIR, "agreement.json"), "w") as f:
        json.dump(clean({"versions": versions, **agreement_golden(rng)}), f, separators=(",", ":"))


if __name__ == "__main__":
    main()
