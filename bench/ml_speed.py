"""Speed and memory of the report classifier (`ml.Classifier`) on one core.

    .venv/bin/python bench/ml_speed.py [--batch N] [--train-size N]
                                                        [--seed N] [--json]

Measures classify throughput on a batch, in a running process (steady state) and
as the first batch of a fresh process (cold caches), single-report latency
(`predict_one`), training time (`Classifier.train`, which includes its
cross-validation), peak memory, and a bare scikit-learn baseline (word TF-IDF +
one-vs-rest liblinear logistic regression) measured in the same run on the same
data. Every input is built
from the bundled corpus with small seeded perturbations, so a run is
repeatable. Timed runs are untraced; peak memory comes from separate runs
under tracemalloc, whose overhead would distort the timings.
"""

import os

# Single-core honest: BLAS/OpenMP pools must be sized before numpy is imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer

import ml

T = TypeVar("T")

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
GOAL_THROUGHPUT = 5000.0  # reports/s, classify batch, one core
GOAL_P50_MS = 2.0  # predict_one median latency
GOAL_TRAIN_S = 60.0  # Classifier.train on --train-size reports
GOAL_RATIO = 0.5  # full-pipeline throughput / baseline throughput
LATENCY_CALLS = 2000
#: Classify measurements are repeated this many times; the median is reported.
ROUNDS = 3


# --- Inputs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dataset:
    texts: list[str]
    labels: list[list[str]]


def _typo(word: str, rng: random.Random) -> str:
    """Swap two neighbouring characters, as a hurried typist does."""
    if len(word) < 4:
        return word
    i = rng.randrange(len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def perturb(text: str, rng: random.Random, edits: int, typos: bool) -> str:
    """Apply a few random word drops and neighbour swaps (and optionally typos)."""
    words = text.split()
    operations = ["drop", "swap", "typo"] if typos else ["drop", "swap"]
    for _ in range(edits):
        if len(words) < 4:
            break
        operation = rng.choice(operations)
        i = rng.randrange(len(words) - 1)
        if operation == "drop":
            del words[i]
        elif operation == "swap":
            words[i], words[i + 1] = words[i + 1], words[i]
        else:
            words[i] = _typo(words[i], rng)
    return " ".join(words)


def synthesize(corpus: Sequence[ml.Example], size: int, rng: random.Random,
               typos: bool) -> Dataset:
    """`size` examples sampled from the corpus, each lightly perturbed, labels kept."""
    sampled = [rng.choice(corpus) for _ in range(size)]
    texts = [perturb(e.text, rng, edits=rng.randint(1, 3), typos=typos) for e in sampled]
    return Dataset(texts=texts, labels=[list(e.labels) for e in sampled])


# --- Measurement helpers ------------------------------------------------------------------

def timed(function: Callable[[], T]) -> tuple[T, float]:
    """Result and wall-clock seconds of one call, with the garbage collector settled first."""
    gc.collect()
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def traced_peak_mib(function: Callable[[], Any]) -> float:
    """Peak Python-tracked memory (tracemalloc) of one call, in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def max_rss_mib() -> float:
    """The process's peak resident set size so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latencies_ms(classifier: ml.Classifier, texts: Sequence[str]) -> list[float]:
    """Milliseconds of each `predict_one` call, one text after another."""
    results = []
    for text in texts:
        start = time.perf_counter_ns()
        classifier.predict_one(text)
        results.append((time.perf_counter_ns() - start) / 1e6)
    return results


def percentile(values: Sequence[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


# --- Baseline -----------------------------------------------------------------------------

def corpus_dataset(corpus: Sequence[ml.Example]) -> Dataset:
    return Dataset([e.text for e in corpus], [list(e.labels) for e in corpus])


def train_baseline(data: Dataset) -> Pipeline:
    """Bare scikit-learn: default word TF-IDF + one-vs-rest liblinear logistic regression."""
    y = MultiLabelBinarizer(classes=list(ml.CATEGORIES)).fit_transform(data.labels)
    model = OneVsRestClassifier(LogisticRegression(solver="liblinear"))
    return make_pipeline(TfidfVectorizer(), model).fit(data.texts, y)


# --- The benchmark ------------------------------------------------------------------------

def steady_rates(classifier: ml.Classifier, baseline: Pipeline,
                 batch: list[str]) -> tuple[float, float]:
    """Median reports/s of the classifier and of the baseline, alternating, over `ROUNDS`."""
    full, bare = [], []
    for _ in range(ROUNDS):
        full.append(len(batch) / timed(lambda: classifier.predict(batch))[1])
        bare.append(len(batch) / timed(lambda: baseline.predict_proba(batch))[1])
    return statistics.median(full), statistics.median(bare)


def cold_rates(classifier: ml.Classifier, batch: list[str]) -> dict[str, float]:
    """The first batch of fresh processes: load the model's artifact, classify the batch.

    Medians over `ROUNDS` processes of the load time and of the classifier's and the
    baseline's reports/s on their first batch (see `cold_main`).
    """
    runs = []
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "model.skops").write_bytes(classifier.to_bytes())
        (folder / "batch.json").write_text(json.dumps(batch), encoding="utf-8")
        for _ in range(ROUNDS):
            result = subprocess.run([sys.executable, __file__, "--cold", directory],
                                    capture_output=True, text=True, check=True)
            runs.append(json.loads(result.stdout))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def cold_main(directory: Path) -> None:
    """In a fresh process: time loading the artifact and classifying the batch once."""
    batch = json.loads((directory / "batch.json").read_text(encoding="utf-8"))
    data = (directory / "model.skops").read_bytes()
    classifier, load_s = timed(lambda: ml.Classifier.from_bytes(data))
    # The baseline is trained again here (well under a second), so no pickle is loaded.
    baseline = train_baseline(corpus_dataset(ml.load_corpus()))
    _, seconds = timed(lambda: classifier.predict(batch))
    _, baseline_seconds = timed(lambda: baseline.predict_proba(batch))
    print(json.dumps({"load_s": load_s, "classify_per_s": len(batch) / seconds,
                      "baseline_classify_per_s": len(batch) / baseline_seconds}))


def run(batch_size: int, train_size: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    corpus = ml.load_corpus()
    corpus_data = corpus_dataset(corpus)
    batch = synthesize(corpus, batch_size, rng, typos=True).texts
    warmup = synthesize(corpus, batch_size, rng, typos=True).texts
    training = synthesize(corpus, train_size, rng, typos=False)
    figures: dict[str, Any] = {
        "threads": {name: os.environ[name] for name in THREAD_VARIABLES},
        "corpus_size": len(corpus), "batch": batch_size, "train_size": train_size, "seed": seed,
        "load_average": os.getloadavg(),
    }

    # Classify with the model the app ships: trained on the bundled corpus.
    progress(f"training the classify models on the bundled corpus ({len(corpus)} reports)")
    classifier = ml.Classifier.train(corpus_data.texts, corpus_data.labels)
    baseline = train_baseline(corpus_data)

    progress(f"first batch of {batch_size:,} reports in {ROUNDS} fresh processes")
    cold = cold_rates(classifier, batch)
    figures["load_s"] = cold["load_s"]
    figures["cold_classify_per_s"] = cold["classify_per_s"]
    figures["cold_baseline_classify_per_s"] = cold["baseline_classify_per_s"]
    figures["cold_classify_ratio"] = cold["classify_per_s"] / cold["baseline_classify_per_s"]

    progress(f"warming up on {batch_size:,} other reports, then classifying {batch_size:,} "
             f"reports {ROUNDS} times")
    classifier.predict(warmup)
    baseline.predict_proba(warmup)
    figures["classify_per_s"], figures["baseline_classify_per_s"] = steady_rates(
        classifier, baseline, batch)
    figures["classify_ratio"] = figures["classify_per_s"] / figures["baseline_classify_per_s"]

    progress(f"{LATENCY_CALLS:,} predict_one calls")
    gc.collect()
    latencies = latencies_ms(classifier, [batch[i % batch_size] for i in range(LATENCY_CALLS)])
    figures["latency_p50_ms"] = percentile(latencies, 0.50)
    figures["latency_p95_ms"] = percentile(latencies, 0.95)

    progress(f"training on {train_size:,} reports (Classifier.train: CV + final fit)")
    _, seconds = timed(lambda: ml.Classifier.train(training.texts, training.labels))
    figures["train_s"] = seconds
    _, seconds = timed(lambda: train_baseline(training))
    figures["baseline_train_s"] = seconds
    figures["train_ratio"] = figures["train_s"] / figures["baseline_train_s"]

    progress("peak memory: classify and training again under tracemalloc")
    figures["classify_peak_mib"] = traced_peak_mib(lambda: classifier.predict(batch))
    figures["train_peak_mib"] = traced_peak_mib(
        lambda: ml.Classifier.train(training.texts, training.labels))
    figures["max_rss_mib"] = max_rss_mib()
    progress("done")
    return figures


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def report(f: dict[str, Any]) -> str:
    """The figures as plain text, one per line, goals beside them."""
    threads = ", ".join(f"{name}={value}" for name, value in f["threads"].items())
    lines = [
        f"single core: {threads} (set before numpy is imported; liblinear is single-threaded)",
        f"inputs: seed {f['seed']}; corpus {f['corpus_size']:,} reports, perturbed into a "
        f"classify batch of {f['batch']:,} and a training set of {f['train_size']:,}",
        f"load average at the start: {' '.join(f'{x:.2f}' for x in f['load_average'])}",
        f"classify throughput, running process: {f['classify_per_s']:,.0f} reports/s "
        f"(goal >= {GOAL_THROUGHPUT:,.0f}) {verdict(f['classify_per_s'] >= GOAL_THROUGHPUT)}",
        f"baseline classify throughput, running process: "
        f"{f['baseline_classify_per_s']:,.0f} reports/s",
        f"throughput ratio full/baseline, running process: {f['classify_ratio']:.2f} "
        f"(goal >= {GOAL_RATIO}) {verdict(f['classify_ratio'] >= GOAL_RATIO)}",
        f"classify throughput, first batch of a fresh process: "
        f"{f['cold_classify_per_s']:,.0f} reports/s "
        f"(goal >= {GOAL_THROUGHPUT:,.0f}) {verdict(f['cold_classify_per_s'] >= GOAL_THROUGHPUT)}",
        f"baseline classify throughput, first batch of a fresh process: "
        f"{f['cold_baseline_classify_per_s']:,.0f} reports/s",
        f"throughput ratio full/baseline, first batch of a fresh process: "
        f"{f['cold_classify_ratio']:.2f} "
        f"(goal >= {GOAL_RATIO}) {verdict(f['cold_classify_ratio'] >= GOAL_RATIO)}",
        f"model load time (Classifier.from_bytes): {1000 * f['load_s']:.0f} ms",
        f"predict_one latency p50: {f['latency_p50_ms']:.2f} ms "
        f"(goal < {GOAL_P50_MS} ms) {verdict(f['latency_p50_ms'] < GOAL_P50_MS)}",
        f"predict_one latency p95: {f['latency_p95_ms']:.2f} ms",
        f"training time, {f['train_size']:,} reports: {f['train_s']:.1f} s "
        f"(goal < {GOAL_TRAIN_S:.0f} s) {verdict(f['train_s'] < GOAL_TRAIN_S)}",
        f"baseline training time, {f['train_size']:,} reports: {f['baseline_train_s']:.1f} s",
        f"training time ratio full/baseline: {f['train_ratio']:.1f} "
        "(no goal; the full train is 3 or 5 CV fits + 1 final fit; the baseline 1 fit)",
        f"peak traced memory, classify {f['batch']:,}: {f['classify_peak_mib']:.0f} MiB",
        f"peak traced memory, training {f['train_size']:,}: {f['train_peak_mib']:.0f} MiB",
        f"peak RSS of the process (ru_maxrss): {f['max_rss_mib']:.0f} MiB",
    ]
    return "\n".join(lines)


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    elapsed = time.perf_counter() - _STARTED
    print(f"[{elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=positive, default=10_000,
                        help="reports in the classify batch (default 10,000)")
    parser.add_argument("--train-size", type=positive, default=50_000,
                        help="reports to train on (default 50,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for sampling and perturbing")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--cold", type=Path, help=argparse.SUPPRESS)  # see cold_rates
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.cold:
        cold_main(args.cold)
        return
    figures = run(args.batch, args.train_size, args.seed)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(report(figures))


if __name__ == "__main__":
    main()
