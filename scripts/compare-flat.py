#!/usr/bin/env python3
"""Flat-table mode against tuned baselines on the same split.

For each dataset: a stratified 75/25 split (seed 0) written as CSV; COCO trains on the
training file (`coco model train --table`) and scores the test file (`coco model
predict`); scikit-learn's logistic regression (C tuned by 5-fold CV, one-hot + scaling)
and XGBoost (depth / learning rate / trees tuned by 5-fold CV) train on the same rows.
Reported: test AUC and expected calibration error (10 equal-width bins, as COCO's).

    pip install scikit-learn xgboost pandas
    cargo build --release -p coco-cli
    python3 scripts/compare-flat.py [path/to/coco]

Not part of the test suite: it needs Python packages CI does not install.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

COCO = sys.argv[1] if len(sys.argv) > 1 else "target/release/coco"


def ece(p, y, bins=10):
    p, y = np.asarray(p), np.asarray(y)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return total


def telco_like(n, seed):
    """Churn with interactions, categories, missing values and a skewed count."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, n)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["DSL", "Fiber optic", "No"], n, p=[0.35, 0.45, 0.2])
    charges = np.round(rng.uniform(18, 118, n), 2)
    calls = rng.poisson(1.2, n)
    logins = rng.lognormal(3, 1.2, n).round()
    senior = rng.random(n) < 0.16
    z = (-1.2 - 0.035 * tenure + 1.4 * (contract == "Month-to-month") - 0.6 * (contract == "Two year")
         + 0.7 * (internet == "Fiber optic") + 0.012 * (charges - 65) + 0.35 * calls
         - 0.25 * np.log1p(logins) + 0.4 * senior
         + 0.8 * ((internet == "Fiber optic") & (contract == "Month-to-month") & (tenure < 12)))
    churn = rng.random(n) < 1 / (1 + np.exp(-z))
    total = np.round(charges * tenure, 2).astype(object)
    total[rng.random(n) < 0.02] = ""
    return pd.DataFrame({
        "customerID": [f"{i:04d}-X" for i in range(n)], "tenure": tenure, "Contract": contract,
        "InternetService": internet, "MonthlyCharges": charges, "TotalCharges": total,
        "SupportCalls": calls, "Logins30d": logins, "SeniorCitizen": senior.astype(int),
        "Churn": np.where(churn, "Yes", "No"),
    })


def datasets():
    bc = load_breast_cancer(as_frame=True)
    frame = bc.frame.rename(columns={"target": "label"})
    frame["label"] = 1 - frame["label"]  # malignant = event
    frame.insert(0, "id", range(len(frame)))
    yield "breast_cancer (569 rows, 30 numeric)", frame, "label"
    x, y = make_classification(n_samples=6000, n_features=20, n_informative=8, n_redundant=4,
                               weights=[0.85], flip_y=0.03, class_sep=0.8, random_state=3)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(20)])
    frame.insert(0, "id", range(len(frame)))
    frame["label"] = y
    yield "make_classification (6,000 rows, 20 numeric)", frame, "label"
    yield "telco-like churn (7,000 rows, mixed)", telco_like(7000, 5), "Churn"


def baselines(train, test, label, id_column):
    y_train = (train[label].astype(str).isin(["1", "Yes", "True", "true"])).astype(int)
    x_train = train.drop(columns=[label, id_column])
    x_test = test.drop(columns=[label, id_column])
    for frame in (x_train, x_test):
        for column in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[column]):
                converted = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
                if converted.notna().sum() >= 0.9 * frame[column].replace("", np.nan).notna().sum():
                    frame[column] = converted
    categorical = [c for c in x_train.columns if not pd.api.types.is_numeric_dtype(x_train[c])]
    numeric = [c for c in x_train.columns if c not in categorical]
    prep = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())]), numeric),
        ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
    ])
    lr = GridSearchCV(Pipeline([("prep", prep), ("lr", LogisticRegression(max_iter=2000))]),
                      {"lr__C": [0.01, 0.1, 1, 10, 100]}, scoring="roc_auc", cv=5)
    lr.fit(x_train, y_train)
    xgb = GridSearchCV(Pipeline([("prep", prep), ("xgb", XGBClassifier(eval_metric="logloss", n_jobs=2))]),
                       {"xgb__max_depth": [2, 3, 5], "xgb__learning_rate": [0.03, 0.1],
                        "xgb__n_estimators": [100, 300, 600]}, scoring="roc_auc", cv=5)
    xgb.fit(x_train, y_train)
    return {"logistic regression (tuned)": lr.predict_proba(x_test)[:, 1],
            "XGBoost (tuned)": xgb.predict_proba(x_test)[:, 1]}


def main():
    rows = []
    for name, frame, label in datasets():
        id_column = frame.columns[0]
        y = frame[label].astype(str).isin(["1", "Yes"]).astype(int)
        train, test = train_test_split(frame, test_size=0.25, stratify=y, random_state=0)
        y_test = test[label].astype(str).isin(["1", "Yes"]).astype(int).to_numpy()
        with tempfile.TemporaryDirectory() as work:
            train_path, test_path = os.path.join(work, "train.csv"), os.path.join(work, "test.csv")
            train.to_csv(train_path, index=False)
            test.drop(columns=[label]).to_csv(test_path, index=False)
            data = os.path.join(work, "data")
            subprocess.run([COCO, "--data-dir", data, "model", "train", "--table", train_path,
                            "--label", label, "--id", id_column, "--format", "json"],
                           check=True, capture_output=True)
            out = subprocess.run([COCO, "--data-dir", data, "model", "predict", "--table", test_path,
                                  "--format", "json"], check=True, capture_output=True, text=True)
            predicted = {str(r["id"]): r["probability"] for r in json.loads(out.stdout)}
        coco = np.array([predicted[str(i)] for i in test[id_column]])
        results = {"COCO": coco, **baselines(train, test, label, id_column)}
        for model, p in results.items():
            rows.append((name, model, roc_auc_score(y_test, p), ece(p, y_test)))
    print("| dataset | model | test AUC | ECE |\n|---|---|---:|---:|")
    for name, model, auc, e in rows:
        print(f"| {name} | {model} | {auc:.4f} | {e:.4f} |")


if __name__ == "__main__":
    main()
