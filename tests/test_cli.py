"""Administration from the shell: users, the classifier and demo data."""

import pytest
from sqlalchemy import func, select

import ml
from ml.corpus import corpus_files
from models import ModelVersion, Report, ReportTerm, User, db


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def small_corpus(app, tmp_path) -> int:
    """Train on every sixth example of the bundled corpus (TRAINING_CORPUS_DIR): the
    same code in a fraction of the time. Returns how many examples it holds.

    test_ml_train_uses_corpus_and_human_labels trains on the whole bundled corpus.
    """
    lines = [line for path in corpus_files() for line in path.read_text("utf-8").splitlines()
             if line.strip()][::6]
    directory = tmp_path / "corpus"
    directory.mkdir()
    (directory / "small.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    app.config["TRAINING_CORPUS_DIR"] = str(directory)
    return len(lines)


def test_create_user_with_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "Nurse@Example.org", "--role", "staff",
                                 "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "nurse@example.org" and user.role == "staff"
        assert user.check_password("a long enough password")


def test_create_user_with_prompted_password(app, runner):
    result = runner.invoke(args=["users", "create", "c@example.org", "--role", "coordinator"],
                           input="a long enough password\na long enough password\n")
    assert result.exit_code == 0, result.output
    assert count(app, User) == 1


def test_create_user_refuses_bad_input(app, runner):
    short = runner.invoke(args=["users", "create", "a@example.org", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    role = runner.invoke(args=["users", "create", "a@example.org", "--role", "king",
                               "--password-stdin"], input="a long enough password\n")
    assert role.exit_code != 0 and "king" in role.output
    email = runner.invoke(args=["users", "create", "not-an-email", "--password-stdin"],
                          input="a long enough password\n")
    assert email.exit_code != 0
    runner.invoke(args=["users", "create", "a@example.org", "--password-stdin"],
                  input="a long enough password\n")
    again = runner.invoke(args=["users", "create", "A@example.org", "--password-stdin"],
                          input="a long enough password\n")
    assert again.exit_code != 0 and "already exists" in again.output
    assert count(app, User) == 1


def test_ml_train_uses_corpus_and_human_labels(app, runner, make_report, make_user):
    reviewer = make_user("coordinator")
    report_id = make_report("Kursen i nya journalen var för kort, vi kan inte ordinera.")
    with app.app_context():
        db.session.get(Report, report_id).apply_review(reviewer.id, {"training"})
        db.session.commit()
    result = runner.invoke(args=["ml", "train"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        version = db.session.scalar(select(ModelVersion).where(ModelVersion.active))
        assert version.training_summary["human_labeled"] == 1
        assert version.training_summary["corpus"] >= 300
        assert version.metrics["macro_f1"] > 0.5


def test_ml_train_twice_keeps_one_active_version(app, runner, active_model, small_corpus):
    assert runner.invoke(args=["ml", "ensure-model"]).output.startswith(
        f"Model version {active_model} is active")
    assert runner.invoke(args=["ml", "train"]).exit_code == 0
    with app.app_context():
        active = db.session.scalars(select(ModelVersion).where(ModelVersion.active)).all()
        assert len(active) == 1 and active[0].id != active_model
        assert active[0].training_summary["corpus"] == small_corpus


def test_ensure_model_replaces_an_active_model_that_cannot_load(app, runner, active_model,
                                                                small_corpus):
    with app.app_context():
        db.session.get(ModelVersion, active_model).artifact = b"an older artifact format"
        db.session.commit()
    result = runner.invoke(args=["ml", "ensure-model"])
    assert result.exit_code == 0, result.output
    assert f"Model version {active_model} cannot be loaded" in result.output
    with app.app_context():
        active = db.session.scalar(select(ModelVersion).where(ModelVersion.active))
        assert active.id != active_model
        assert ml.Classifier.from_bytes(active.artifact).predict_one("Fel dos").scores


def test_reclassify_classifies_what_is_missing(app, runner, make_report, small_corpus):
    ids = [make_report(f"Systemet hängde sig {n} gånger idag") for n in range(3)]
    failed = runner.invoke(args=["ml", "reclassify"])
    assert failed.exit_code != 0 and "no model version is active" in failed.output
    runner.invoke(args=["ml", "ensure-model"])
    result = runner.invoke(args=["ml", "reclassify"])
    assert result.exit_code == 0 and "Classified 3 report(s)" in result.output
    with app.app_context():
        assert all(db.session.get(Report, i).is_classified for i in ids)


def test_reclassify_fails_loudly_when_the_model_does_not_load(app, runner, make_report):
    ids = [make_report(f"Systemet hängde sig {n} gånger idag") for n in range(2)]
    with app.app_context():
        db.session.add(ModelVersion(algorithm="broken", artifact=b"not a model", active=True))
        db.session.commit()
    result = runner.invoke(args=["ml", "reclassify"])
    assert result.exit_code == 1
    assert "the active model cannot be loaded" in result.output
    assert "nothing was classified" in result.output
    with app.app_context():
        assert not any(db.session.get(Report, i).is_classified for i in ids)


def test_demo_data_fills_an_empty_database_once(app, runner, active_model, tmp_path):
    accounts = tmp_path / "accounts.txt"
    result = runner.invoke(args=["demo-data", "--reports", "25", "--accounts-file",
                                 str(accounts)])
    assert result.exit_code == 0, result.output
    assert count(app, Report) == 25
    lines = accounts.read_text().splitlines()
    assert {line.split()[0] for line in lines} == {"coordinator", "researcher", "admin",
                                                   "staff"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Report.model_version_id.is_not(None))
                                 .select_from(Report)) == 25
        # Indexed for similar reports, so their panels are not empty.
        assert db.session.scalar(select(func.count(func.distinct(ReportTerm.report_id)))) == 25
    again = runner.invoke(args=["demo-data", "--reports", "5"])
    assert again.exit_code != 0 and "already has" in again.output
    quiet = runner.invoke(args=["demo-data", "--if-empty"])
    assert quiet.exit_code == 0 and count(app, Report) == 25


def review_corpus_reports(app, make_report, reviewer, count: int) -> None:
    """Reports with human labels taken from the corpus, so a good model gets them right."""
    import ml

    for example in ml.load_corpus()[:count]:
        report_id = make_report(example.text)
        with app.app_context():
            db.session.get(Report, report_id).apply_review(reviewer.id, set(example.labels))
            db.session.commit()


def test_a_worse_candidate_is_not_activated_unless_forced(app, runner, make_report, make_user,
                                                          active_model, small_corpus,
                                                          monkeypatch):
    import random

    from app.services import classification

    review_corpus_reports(app, make_report, make_user("coordinator"), 60)
    real = classification.training_data

    def scrambled():
        data = real()
        labels = data.labels[:]
        random.Random(1).shuffle(labels)
        return classification.TrainingData(data.texts, labels, data.corpus_size,
                                           data.human_labeled, data.held_back)

    monkeypatch.setattr(classification, "training_data", scrambled)
    kept = runner.invoke(args=["ml", "train"])
    assert kept.exit_code == 0, kept.output
    assert "kept the active model" in kept.output and "12 held-back" in kept.output
    with app.app_context():
        assert db.session.scalar(select(ModelVersion.id).where(ModelVersion.active)) == (
            active_model)
    forced = runner.invoke(args=["ml", "train", "--force"])
    assert "forced" in forced.output
    with app.app_context():
        assert db.session.scalar(select(ModelVersion.id).where(ModelVersion.active)) != (
            active_model)


def test_versions_lists_and_activate_rolls_back(app, runner, active_model, classifier):
    from app.services.classification import store_version

    with app.app_context():
        newer = store_version(classifier).id
    listing = runner.invoke(args=["ml", "versions"]).output.splitlines()
    assert listing[0].startswith(f"* {newer:>4}") and listing[1].startswith(f"  {active_model:>4}")
    assert "macro-F1" in listing[0]
    result = runner.invoke(args=["ml", "activate", str(active_model)])
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(ModelVersion.id).where(ModelVersion.active)) == (
            active_model)
    missing = runner.invoke(args=["ml", "activate", "999"])
    assert missing.exit_code != 0 and "no model version 999" in missing.output


def test_create_user_refuses_a_common_password(app, runner):
    result = runner.invoke(args=["users", "create", "a@example.org", "--password-stdin"],
                           input="password1234\n")
    assert result.exit_code != 0 and "too common" in result.output
    assert count(app, User) == 0
