"""Command line: ``python -m ml train|classify|deidentify|evaluate|corpus-check``.

    python -m ml train --data FILE --out PATH
    python -m ml classify [--model PATH] [--explain] < reports.jsonl > labels.jsonl
    python -m ml deidentify < reports.jsonl > scrubbed.jsonl
    python -m ml evaluate [--data FILE] [--model PATH] [--folds 5] [--repeats 2] [--search] [--json]
    python -m ml corpus-check [--data FILE ...]

`classify` reads JSON lines ``{"text": ...}`` and writes one line per input,
in order: ``{"labels": [...], "scores": {...}}``. Other tools depend on this
interface; keep it stable. With ``--explain`` each line also has
``"explanation": {category: [[word, start, end, weight], ...]}``: the words that
pushed each category's score up most (see `ml.explain`).

`deidentify` reads the same lines and writes, in order,
``{"text": <scrubbed>, "found": [[start, end, kind], ...]}`` with offsets into
the input text (see `ml.pii`).

`evaluate` cross-validates on the bundled corpus by default; with ``--data`` it
scores ``--model`` (or a model trained on the bundled corpus) on that file, and
``--search`` runs the grid search of `ml.evaluation.search`. `corpus-check`
prints the balance of labeled files and exits 1 if they hold near-duplicate
texts (see `ml.corpus_check`).
"""

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ml import corpus_check, evaluation
from ml.classifier import ARTIFACT_FORMAT, Classifier
from ml.corpus import CorpusError, corpus_fingerprint, load_corpus
from ml.errors import ModelError
from ml.explain import explain
from ml.pii import scrub


def default_model_path() -> Path:
    """Where the model trained from the bundled corpus is cached between runs."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vaka"
    return cache / f"default-model-{corpus_fingerprint()}-v{ARTIFACT_FORMAT}.skops"


def train_default() -> Classifier:
    examples = load_corpus()
    return Classifier.train([e.text for e in examples], [e.labels for e in examples])


def load_default_model() -> Classifier:
    """The bundled-corpus model, trained and cached on first use."""
    path = default_model_path()
    if path.exists():
        return Classifier.from_bytes(path.read_bytes())
    classifier = train_default()
    _write_atomically(path, classifier.to_bytes())
    return classifier


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def cmd_train(args: argparse.Namespace) -> int:
    examples = load_corpus([Path(p) for p in args.data])
    classifier = Classifier.train([e.text for e in examples], [e.labels for e in examples])
    _write_atomically(Path(args.out), classifier.to_bytes())
    json.dump({"examples": len(examples), "metrics": classifier.metrics}, sys.stdout)
    sys.stdout.write("\n")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    classifier = (Classifier.from_bytes(Path(args.model).read_bytes()) if args.model
                  else load_default_model())
    return classify_stream(classifier, sys.stdin, sys.stdout, with_explanation=args.explain)


def classify_stream(classifier: Classifier, source: TextIO, out: TextIO,
                    with_explanation: bool = False) -> int:
    """Classify JSON lines from `source`; a bad line stops with its number on stderr."""

    def classify(text: str) -> dict[str, Any]:
        result = classifier.predict_one(text).as_dict()
        if with_explanation:
            result["explanation"] = {
                category: [[w.text, w.start, w.end, w.weight] for w in words]
                for category, words in explain(classifier, text).items()}
        return result

    return map_text_stream(classify, source, out)


def cmd_deidentify(args: argparse.Namespace) -> int:
    return deidentify_stream(sys.stdin, sys.stdout)


def deidentify_stream(source: TextIO, out: TextIO) -> int:
    """Scrub JSON lines from `source`; a bad line stops with its number on stderr."""
    return map_text_stream(_deidentify_one, source, out)


def _deidentify_one(text: str) -> dict[str, Any]:
    scrubbed, findings = scrub(text)
    return {"text": scrubbed, "found": [[f.start, f.end, f.kind] for f in findings]}


def map_text_stream(transform: Callable[[str], Any], source: TextIO, out: TextIO) -> int:
    """Write ``transform(text)`` as a JSON line for each ``{"text": ...}`` line of `source`.

    Blank lines are skipped. A bad line stops the run: its number goes to stderr
    and the result is 2 (the lines before it have been written).
    """
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            print(f"line {number}: expected {{\"text\": ...}} ({error})", file=sys.stderr)
            return 2
        out.write(json.dumps(transform(text), ensure_ascii=False))
        out.write("\n")
    return 0


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.model and not args.data:
        raise ValueError("--model needs --data: the labeled file to evaluate the model on")
    if args.search and args.model:
        raise ValueError("--search trains its own models; leave out --model")
    for name in ("folds", "repeats"):
        value = getattr(args, name)
        if value is not None and value < (2 if name == "folds" else 1):
            raise ValueError(f"--{name} must be at least {2 if name == 'folds' else 1}")
    data = load_corpus([Path(args.data)]) if args.data else None
    if data is not None and not data:
        raise ValueError(f"{args.data}: no labeled examples")

    if args.search:
        results = evaluation.search(
            data if data is not None else load_corpus(),
            folds=args.folds or 3, repeats=args.repeats or 1, seed=args.seed,
            out=sys.stderr if args.json else sys.stdout)
        if args.json:
            json.dump([{"params": p, "macro_f1": m, "safety_recall": s} for p, m, s in results],
                      sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        return 0

    if data is None:
        report = evaluation.cross_validate(
            load_corpus(), folds=args.folds or 5, repeats=args.repeats or 2, seed=args.seed,
            progress=None if args.quiet else _stderr)
        report.description += " on the bundled corpus"
    else:
        if args.model:
            classifier = Classifier.from_bytes(Path(args.model).read_bytes())
            source = f"model {args.model}"
        else:
            classifier = train_default()
            source = "a model trained on the bundled corpus"
        report = evaluation.evaluate_file(classifier, data,
                                          description=f"{source} on {args.data}")
        if not args.model:
            seen = {e.text for e in load_corpus()}
            overlap = sum(e.text in seen for e in data)
            if overlap:
                report.notes.append(f"{overlap} of {len(data)} texts are also in the "
                                    "training corpus; their figures are optimistic")
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(evaluation.format_report(report))
    return 0


def cmd_corpus_check(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.data] if args.data else None
    located, result = corpus_check.check_files(paths, threshold=args.threshold)
    if not located:
        raise ValueError("no labeled examples to check")
    sys.stdout.write(corpus_check.format_check(located, result, threshold=args.threshold))
    return 0 if result.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model from labeled JSON lines")
    train.add_argument("--data", nargs="+", required=True, help="labeled JSON-lines file(s)")
    train.add_argument("--out", required=True, help="where to write the model (.skops)")
    train.set_defaults(handler=cmd_train)
    classify = commands.add_parser("classify", help="classify JSON lines from stdin")
    classify.add_argument("--model", help="a model file (default: the bundled-corpus model)")
    classify.add_argument("--explain", action="store_true",
                          help="add the words that pushed each category up")
    classify.set_defaults(handler=cmd_classify)
    deidentify = commands.add_parser(
        "deidentify", help="mask personal identifiers in JSON lines from stdin")
    deidentify.set_defaults(handler=cmd_deidentify)
    evaluate = commands.add_parser(
        "evaluate", help="cross-validate, or score a model on a labeled file")
    evaluate.add_argument("--data", help="a labeled JSON-lines file to evaluate on "
                          "(default: cross-validate on the bundled corpus)")
    evaluate.add_argument("--model", help="a model file to evaluate on --data "
                          "(default: train one on the bundled corpus)")
    evaluate.add_argument("--folds", type=int, help="cross-validation folds (default 5; "
                          "3 with --search)")
    evaluate.add_argument("--repeats", type=int, help="cross-validation repeats (default 2; "
                          "1 with --search)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the folds (default 0)")
    evaluate.add_argument("--search", action="store_true",
                          help="grid search over C and character n-grams")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--quiet", action="store_true", help="no progress on stderr")
    evaluate.set_defaults(handler=cmd_evaluate)
    check = commands.add_parser(
        "corpus-check", help="balance and near-duplicates of labeled files; exit 1 on duplicates")
    check.add_argument("--data", nargs="+", help="labeled JSON-lines file(s) "
                       "(default: the bundled corpus)")
    check.add_argument("--threshold", type=float,
                       default=corpus_check.NEAR_DUPLICATE_SIMILARITY,
                       help="cosine similarity above which texts are near-duplicates (0.8)")
    check.set_defaults(handler=cmd_corpus_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (CorpusError, ModelError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
