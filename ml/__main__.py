"""Command line: ``python -m ml train|classify|deidentify``.

    python -m ml train --data FILE --out PATH
    python -m ml classify [--model PATH] < reports.jsonl > labels.jsonl
    python -m ml deidentify < reports.jsonl > scrubbed.jsonl

`classify` reads JSON lines ``{"text": ...}`` and writes one line per input,
in order: ``{"labels": [...], "scores": {...}}``. Other tools depend on this
interface; keep it stable.

`deidentify` reads the same lines and writes, in order,
``{"text": <scrubbed>, "found": [[start, end, kind], ...]}`` with offsets into
the input text (see `ml.pii`).
"""

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ml.classifier import Classifier, ModelError
from ml.corpus import CorpusError, corpus_fingerprint, load_corpus
from ml.pii import scrub


def default_model_path() -> Path:
    """Where the model trained from the bundled corpus is cached between runs."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vaka"
    return cache / f"default-model-{corpus_fingerprint()}.skops"


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
    return classify_stream(classifier, sys.stdin, sys.stdout)


def classify_stream(classifier: Classifier, source: TextIO, out: TextIO) -> int:
    """Classify JSON lines from `source`; a bad line stops with its number on stderr."""
    return map_text_stream(lambda text: classifier.predict_one(text).as_dict(), source, out)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model from labeled JSON lines")
    train.add_argument("--data", nargs="+", required=True, help="labeled JSON-lines file(s)")
    train.add_argument("--out", required=True, help="where to write the model (.skops)")
    train.set_defaults(handler=cmd_train)
    classify = commands.add_parser("classify", help="classify JSON lines from stdin")
    classify.add_argument("--model", help="a model file (default: the bundled-corpus model)")
    classify.set_defaults(handler=cmd_classify)
    deidentify = commands.add_parser(
        "deidentify", help="mask personal identifiers in JSON lines from stdin")
    deidentify.set_defaults(handler=cmd_deidentify)
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
