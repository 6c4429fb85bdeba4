"""Automatic grouping: the pure vectors and decisions (ml.grouping) and the service."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from app.services import NotFound, ServiceError
from app.services import grouping as grouping_service
from app.services.drafts import ReportDraft
from app.services.grouping import (
    AlreadyDecided,
    confirm,
    dismiss,
    fade_stale,
    group_report,
    group_reports,
    merge_into,
    move_out,
    split,
    ungrouped_report_ids,
)
from app.services.issue_profiles import group_of
from app.services.known_issues import (
    attach_reports,
    create_known_issue,
    detach_report,
    merge,
    resolve,
)
from app.services.known_issues import split as split_known_issue
from app.services.reports import submit_report
from ml import grouping
from models import (
    Alert,
    AuditEvent,
    EmergingIssue,
    EmergingIssueTerm,
    EmergingStatus,
    GroupingExclusion,
    KnownIssue,
    Report,
    User,
    db,
)

# One fault (pneumatic-tube samples lost), written as staff write: Swedish and
# English, without å/ä/ö, with typos.
TUBE = [
    "Proverna som skickades med rörposten kom aldrig fram till labbet, inga provsvar.",
    "rorposten tappar proverna, labbet har inte fatt nagra prover fran oss",
    "Rörposten registrerar inte proverna, labbet säger att de aldrig kommit fram.",
    "Provtagits och skickats med rörposten men labbet har inga prover.",
    "Samples sent by the pneumatic tube never reach the lab since go-live.",
    "Porvtagits och skickats i rörpsoten men proverna kom aldrig till labbet.",
]
LABELS = [
    "Etikettskrivaren skriver ut tomma etiketter till provrören.",
    "Etikettskrivaren ger blanka etiketter, kan inte märka provrören.",
]
NOISE = ["Systemet är segt idag.", "Kan inte logga in på morgonen.",
         "För lite utbildning inför starten.", "Kaffemaskinen i personalrummet är trasig."]
START = datetime(2026, 11, 2, 8)


def vector(text: str) -> grouping.Vector:
    return grouping.vectorize(text)


# ml.grouping -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "variant"), [
    ("Rörposten tappar proverna", "rorposten tappar proverna"),
    ("Läkemedelslistan visar fel dos", "Lakemedelslistan visar fel dos"),
    ("Proverna har provtagits men syns inte", "Proverna har porvtagits men syns inte"),
    ("Provsvaren syns inte i journalen", "Lab results are not showing in the record"),
])
def test_spelling_and_language_variants_are_closer_than_unrelated_reports(text, variant):
    alike = grouping.score(vector(text), vector(variant))
    for other in NOISE:
        assert alike > grouping.score(vector(text), vector(other)) + 0.1
    assert alike >= grouping.JOIN


def test_character_ngrams_fold_diacritics_and_share_most_grams_despite_a_typo():
    assert set(grouping._grams("rörposten")) == set(grouping._grams("rorposten"))
    typo, right = set(grouping._grams("porvtagits")), set(grouping._grams("provtagits"))
    assert len(typo & right) > len(typo ^ right) / 2


def test_a_word_known_only_with_its_diacritics_still_gets_its_concept():
    assert "=medication" in grouping.word_terms("lakemedel saknas", "sv")
    assert "=medication" in grouping.word_terms("läkemedel saknas", "sv")
    assert "=slow" in grouping.word_terms("systemet ar langsamt", "sv")


@pytest.mark.parametrize("typed", ["överflytnting", "ovrflyttning", "överflyttningg"])
def test_a_long_word_one_slip_from_a_lexicon_word_gets_its_concept(typed):
    """A letter swapped, dropped or added after the first: the concept all the same."""
    assert grouping.word_terms(f"dubbel dos efter {typed}", "sv") == [
        "=duplicate", "=dose", "=transfer"]


@pytest.mark.parametrize("word", [
    "läsaren",  # a letter changed: "läkaren" (=doctor) is another word
    "verflyttning",  # the first letter dropped
    "lsitan",  # one from "listan", but too short to tell from another word
    "inläggning",  # one from "inloggning", but a word of the corpus's own (admission)
])
def test_a_word_that_may_be_another_gets_no_concept_from_a_near_lexicon_word(word):
    assert not any(term.startswith("=") for term in grouping.word_terms(word, "sv"))


def test_a_stop_word_typed_without_diacritics_is_no_term():
    assert grouping.word_terms("nagra prover fran rorposten", "sv") == ["=lab", "=tube"]
    assert not any("nagr" in gram for gram in grouping.char_grams("nagra prover", "sv"))


def test_when_a_thing_happened_does_not_group_it_with_what_else_happened_then():
    """"This morning" joined a jammed printer to a frozen lab list on a replay."""
    printer = "The printer in the med room keeps jamming every morning."
    lab_list = "Slow again, the lab list froze six times this morning."
    assert "=morning" not in grouping.word_terms(printer, "en")
    assert not any("morn" in gram for gram in grouping.char_grams(printer, "en"))
    assert grouping.word_terms("Provsvaren syns inte sedan i morse, i natt också", "sv") == \
        ["=lab", "=result", "=show"]
    assert set(grouping.vectorize(printer)) & set(grouping.vectorize(lab_list)) == set()


def test_a_vector_keeps_only_its_heaviest_features_per_block():
    long_text = " ".join(TUBE + LABELS + NOISE)
    vec = vector(long_text)
    chars = [t for t in vec if t.startswith(grouping.CHAR)]
    assert len(chars) == grouping.CHAR_FEATURES
    assert len(vec) - len(chars) <= grouping.WORD_FEATURES
    assert vector("och men att") == {}


def test_a_profile_sum_is_truncated_and_subtraction_drops_emptied_terms():
    first, second = vector(TUBE[0]), vector(LABELS[0])
    total = grouping.added(first, second)
    assert len([t for t in total if not t.startswith("#")]) <= grouping.PROFILE_WORDS
    back = grouping.added(total, second, sign=-1)
    assert set(back) <= set(first)
    assert all(weight > 0 for weight in back.values())


def candidate(key, texts, excluded=(), members=None, known=False):
    return grouping.Candidate(key, grouping.summed(vector(t) for t in texts),
                              grouping.summed(vector(t) for t in excluded),
                              members or len(texts), known)


def test_a_report_joins_the_most_similar_group_above_the_threshold():
    tube, labels = candidate(1, TUBE[:3]), candidate(2, LABELS)
    assert grouping.choose(vector(TUBE[3]), [labels, tube]).key == 1
    assert grouping.choose(vector(LABELS[1]), [labels, tube]).key == 2
    assert grouping.choose(vector(NOISE[3]), [labels, tube]) is None


def test_a_group_refuses_a_report_more_like_what_was_moved_out_of_it():
    mixed = candidate(1, [TUBE[0], NOISE[1]], excluded=[NOISE[1]])
    assert grouping.choose(vector("Kan inte logga in idag."), [mixed]) is None
    assert grouping.choose(vector(TUBE[2]), [mixed]).key == 1


def test_a_known_issue_profile_has_its_own_threshold():
    group = candidate(1, TUBE[:2])
    report = vector(TUBE[4])
    score = grouping.score(report, group.profile)
    known = candidate(1, TUBE[:2], known=True)
    assert grouping.choose(report, [group], join=score + 0.01, join_known=score - 0.01) is None
    assert grouping.choose(report, [known], join=score + 0.01,
                           join_known=score - 0.01) is not None


def test_groups_whose_profiles_became_alike_are_bridged_but_never_a_known_issue():
    joined = grouping.summed(vector(t) for t in TUBE[:4])
    same, known = candidate(2, TUBE[4:]), candidate(3, TUBE[4:], known=True)
    other = candidate(4, LABELS)
    assert [c.key for c in grouping.bridged(joined, [same, known, other])] == [2]


def test_a_title_shows_the_heaviest_terms_as_the_members_wrote_them():
    texts = TUBE[:4]
    title = grouping.title(grouping.summed(vector(t) for t in texts), texts)
    words = title.split(grouping.TITLE_SEPARATOR)
    assert 1 <= len(words) <= grouping.TITLE_TERMS
    assert "rörposten" in words
    assert all(any(word in text.lower() for text in texts) for word in words)
    assert grouping.title({}, texts) == ""


# The service -------------------------------------------------------------------------------

@pytest.fixture
def coordinator_user(make_user):
    return make_user("coordinator")


@pytest.fixture
def filed(app, make_report):
    """Reports inserted one hour apart from START, each grouped as it arrives; their ids."""
    clock = iter(range(10_000))

    def file(texts, units=("Avdelning 12",), **fields) -> list[int]:
        ids = []
        for i, text in enumerate(texts):
            hour = START + timedelta(hours=next(clock))
            report_id = make_report(text, unit=units[i % len(units)], submitted=hour, **fields)
            with app.app_context():
                group_report(report_id)
            ids.append(report_id)
        return ids

    return file


def group_id_of(app, report_id: int) -> int | None:
    with app.app_context():
        return group_of(report_id)


def group_row(app, group_id: int) -> EmergingIssue:
    with app.app_context():
        group = db.session.get(EmergingIssue, group_id)
        db.session.expunge(group)
        return group


def actor(user: User) -> User:
    return db.session.get(User, user.id)


def test_reports_of_one_fault_from_several_units_form_one_group(app, filed):
    tube = filed(TUBE, units=("Avdelning 12", "Akuten", "Barn 3"))
    noise = filed(NOISE)
    groups = {group_id_of(app, report_id) for report_id in tube}
    assert len(groups) == 1
    (group_id,) = groups
    assert not {group_id_of(app, report_id) for report_id in noise} & groups
    group = group_row(app, group_id)
    assert group.status == EmergingStatus.OPEN
    assert group.member_count == len(TUBE)
    assert group.first_report_at == START
    assert group.last_report_at == START + timedelta(hours=len(TUBE) - 1)
    assert "rörposten" in group.title.split(grouping.TITLE_SEPARATOR)
    assert group.language == "sv"
    with app.app_context():
        figures = grouping_service.figures([group_id], now=START + timedelta(hours=6))[group_id]
        assert {name for name, _ in figures.units} == {"Avdelning 12", "Akuten", "Barn 3"}
        assert figures.growth == len(TUBE) / grouping_service.GROWTH_HOURS


def test_a_single_report_forms_a_group_and_grouping_twice_changes_nothing(app, filed):
    (report_id,) = filed(LABELS[:1])
    group = group_row(app, group_id_of(app, report_id))
    assert (group.status, group.member_count) == (EmergingStatus.FORMING, 1)
    with app.app_context():
        assert group_report(report_id).id == group.id
        assert db.session.get(EmergingIssue, group.id).member_count == 1
        with pytest.raises(NotFound):
            group_report(999_999)


def test_grouping_reads_the_deidentified_text(app, make_report):
    report_id = make_report("Ring Anna på 070-123 45 67 om rörposten.")
    with app.app_context():
        group = group_report(report_id)
        assert not any("070" in term for term in group.profile)
        assert "070" not in group.title


def test_a_report_joins_an_open_known_issue_and_its_profile(app, filed, coordinator_user):
    tube = filed(TUBE[:3])
    with app.app_context():
        issue = confirm(group_of(tube[0]), "Rörposten tappar prover",
                        actor(coordinator_user))
        issue_id = issue.id
    (later,) = filed(TUBE[3:4])
    with app.app_context():
        assert db.session.get(Report, later).known_issue_id == issue_id
        assert group_of(later) == group_of(tube[0])
        resolve(issue_id, "Rörposten lagad.", actor(coordinator_user))
    (after_fix,) = filed(TUBE[5:6])
    with app.app_context():
        assert db.session.get(Report, after_fix).known_issue_id is None
        assert group_of(after_fix) != group_of(tube[0])


def test_a_named_report_joining_a_known_issue_is_audited_an_anonymous_one_is_not(
        app, filed, coordinator_user, make_user):
    tube = filed(TUBE[:2])
    with app.app_context():
        issue_id = confirm(group_of(tube[0]), "Rörposten", actor(coordinator_user)).id
    reporter = make_user("staff")
    (named,) = filed(TUBE[2:3], reporter=reporter)
    (anonymous,) = filed(TUBE[3:4])
    with app.app_context():
        attached = {event.object_id: event for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "known_issue.attach"))}
        assert db.session.get(Report, anonymous).known_issue_id == issue_id
        assert str(anonymous) not in attached
        assert attached[str(named)].details["automatic"] is True
        assert attached[str(named)].details["known_issue"] == issue_id


def test_confirm_makes_a_known_issue_with_every_member(app, filed, coordinator_user):
    tube = filed(TUBE[:4])
    group_id = group_id_of(app, tube[0])
    with app.app_context():
        issue = confirm(group_id, "  Rörposten tappar prover ", actor(coordinator_user))
        assert issue.title == "Rörposten tappar prover"
        assert {r.id for r in issue.reports} == set(tube)
        group = db.session.get(EmergingIssue, group_id)
        assert (group.status, group.known_issue_id) == (EmergingStatus.CONFIRMED, issue.id)
        assert group.decided_by_id == coordinator_user.id
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "emerging_issue.confirm")) == 1
        with pytest.raises(AlreadyDecided):
            confirm(group_id, "Again", actor(coordinator_user))


def test_confirm_with_a_bad_title_changes_nothing(app, filed, coordinator_user):
    tube = filed(TUBE[:2])
    group_id = group_id_of(app, tube[0])
    with app.app_context():
        for title in ("   ", "x" * 201):
            with pytest.raises(ServiceError):
                confirm(group_id, title, actor(coordinator_user))
        assert db.session.get(EmergingIssue, group_id).is_undecided
        assert db.session.scalar(select(func.count()).select_from(KnownIssue)) == 0


def test_merge_moves_members_into_the_known_issue_and_its_profile_row(
        app, filed, coordinator_user):
    tube = filed(TUBE[:2])
    labels = filed(LABELS)
    with app.app_context():
        issue = create_known_issue("Rörposten", None, actor(coordinator_user), [tube[0]])
        issue_id = issue.id
        profile_id = group_of(tube[0])
        assert db.session.get(EmergingIssue, profile_id).known_issue_id == issue_id
        merged = group_of(labels[0])
        assert merge_into(merged, issue_id, actor(coordinator_user)) == 2
        row = db.session.get(EmergingIssue, merged)
        assert (row.status, row.known_issue_id, row.member_count) == (
            EmergingStatus.MERGED, issue_id, 0)
        assert group_of(labels[1]) == profile_id
        assert {r.id for r in db.session.get(KnownIssue, issue_id).reports} >= set(labels)
        assert db.session.scalar(select(func.count()).select_from(EmergingIssueTerm).where(
            EmergingIssueTerm.emerging_issue_id == merged)) == 0


def test_merge_into_a_resolved_or_unknown_known_issue_changes_nothing(
        app, filed, coordinator_user):
    tube = filed(TUBE[:2])
    group_id = group_id_of(app, tube[0])
    with app.app_context():
        issue = create_known_issue("Old", None, actor(coordinator_user))
        resolve(issue.id, "Fixed.", actor(coordinator_user))
        with pytest.raises(ServiceError):
            merge_into(group_id, issue.id, actor(coordinator_user))
        with pytest.raises(NotFound):
            merge_into(group_id, 9999, actor(coordinator_user))
        assert db.session.get(EmergingIssue, group_id).member_count == 2
        assert db.session.get(Report, tube[0]).known_issue_id is None


def test_split_members_form_a_new_group_and_do_not_flow_back(app, filed, coordinator_user):
    tube = filed(TUBE[:4])
    group_id = group_id_of(app, tube[0])
    with app.app_context():
        new = split(group_id, tube[2:], actor(coordinator_user))
        assert {group_of(report_id) for report_id in tube[2:]} == {new.id}
        assert db.session.get(EmergingIssue, group_id).member_count == 2
        assert new.member_count == 2 and new.status == EmergingStatus.OPEN
        for report_id in tube[2:]:
            assert db.session.get(GroupingExclusion, (report_id, group_id)) is not None
        with pytest.raises(ServiceError):
            split(group_id, [tube[2]], actor(coordinator_user))  # not a member any more
        with pytest.raises(ServiceError):
            split(group_id, tube[:2], actor(coordinator_user))  # would empty it
        with pytest.raises(ServiceError):
            split(group_id, [], actor(coordinator_user))


def test_dismiss_takes_the_group_out_of_the_look_up(app, filed, coordinator_user):
    tube = filed(TUBE[:2])
    group_id = group_id_of(app, tube[0])
    with app.app_context():
        dismiss(group_id, actor(coordinator_user))
        assert db.session.get(EmergingIssue, group_id).status == EmergingStatus.DISMISSED
        assert group_of(tube[0]) == group_id
        with pytest.raises(AlreadyDecided):
            dismiss(group_id, actor(coordinator_user))
    (later,) = filed(TUBE[2:3])
    assert group_id_of(app, later) != group_id


def test_a_moved_out_report_and_its_lookalike_stay_out(app, filed, coordinator_user):
    mixed = filed([TUBE[0], TUBE[2]])
    group_id = group_id_of(app, mixed[0])
    intruder = filed(["Rörposten är trasig, kan inte logga in i systemet på morgonen."])[0]
    assert group_id_of(app, intruder) == group_id
    with app.app_context():
        move_out(group_id, intruder, actor(coordinator_user))
        group = db.session.get(EmergingIssue, group_id)
        assert group.member_count == 2
        assert group.excluded
        assert group_of(intruder) is None
        assert intruder not in ungrouped_report_ids()
        with pytest.raises(ServiceError):
            move_out(group_id, intruder, actor(coordinator_user))
    lookalike = filed(["Rörposten trasig, kan inte logga in i systemet på morgonen."])[0]
    assert group_id_of(app, lookalike) != group_id
    with app.app_context():
        assert group_report(intruder).id != group_id


def test_stale_groups_fade_and_leave_the_index(app, filed):
    (old,) = filed(LABELS[:1])
    group_id = group_id_of(app, old)
    with app.app_context():
        assert fade_stale(START + timedelta(days=grouping_service.FADE_DAYS - 1)) == 0
        assert fade_stale(START + timedelta(days=grouping_service.FADE_DAYS, hours=1)) == 1
        assert db.session.get(EmergingIssue, group_id).status == EmergingStatus.FADED
        assert db.session.scalar(select(func.count()).select_from(EmergingIssueTerm).where(
            EmergingIssueTerm.emerging_issue_id == group_id)) == 0


def test_bulk_grouping_goes_by_arrival_and_fades_what_a_month_left_alone(app, make_report):
    later = make_report(LABELS[1], submitted=START + timedelta(days=30))
    first = make_report(LABELS[0], submitted=START)
    with app.app_context():
        assert group_reports([later, first, 999_999]) == 2
        assert group_of(first) != group_of(later)
        assert db.session.get(EmergingIssue, group_of(first)).status == "faded"


def test_hand_made_known_issues_keep_their_profile_in_step(app, filed, coordinator_user):
    tube = filed(TUBE[:3])
    labels = filed(LABELS)
    with app.app_context():
        issue = create_known_issue("Rörposten", None, actor(coordinator_user))
        attach_reports(issue.id, tube[:2], actor(coordinator_user))
        profile_id = group_of(tube[0])
        profile = db.session.get(EmergingIssue, profile_id)
        assert (profile.status, profile.known_issue_id, profile.member_count) == (
            EmergingStatus.CONFIRMED, issue.id, 2)
        detach_report(issue.id, tube[1], actor(coordinator_user))
        assert group_of(tube[1]) is None
        assert db.session.get(GroupingExclusion, (tube[1], profile_id)) is not None
        other = create_known_issue("Etiketter", None, actor(coordinator_user), labels)
        merge(other.id, issue.id, actor(coordinator_user))
        assert {group_of(report_id) for report_id in labels} == {profile_id}
        merged_rows = db.session.scalars(select(EmergingIssue).where(
            EmergingIssue.status == EmergingStatus.MERGED)).all()
        assert [row.known_issue_id for row in merged_rows] == [issue.id]
        new = split_known_issue(issue.id, labels, "Etiketter igen", actor(coordinator_user))
        assert {group_of(report_id) for report_id in labels} != {profile_id}
        assert db.session.get(EmergingIssue, group_of(labels[0])).known_issue_id == new.id


def test_rebuild_groups_every_ungrouped_report_in_arrival_order(app, runner, make_report):
    ids = [make_report(text, submitted=START + timedelta(hours=i))
           for i, text in enumerate(TUBE[:3] + LABELS)]
    result = runner.invoke(args=["grouping", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "5 of 5 ungrouped reports" in result.output
    assert len({group_id_of(app, report_id) for report_id in ids}) == 2
    again = runner.invoke(args=["grouping", "rebuild"])
    assert "0 of 0" in again.output


def test_a_submission_is_stored_even_when_grouping_fails(app, make_unit, monkeypatch, caplog):
    unit = make_unit("Akuten")

    def broken(_text, _language=None):
        raise RuntimeError("grouping is broken")

    monkeypatch.setattr(grouping, "vectorize", broken)
    draft = ReportDraft(kind="incident", text=TUBE[0], occurred_at=START, unit_id=unit.id,
                        area="other", impact="none", suggestion=None,
                        submission_token="t" * 32)
    with app.test_request_context():
        submission = submit_report(draft, None)
        report_id = submission.report.id
    assert "grouping is broken" in caplog.text  # the job failed, to be retried
    with app.app_context():
        assert db.session.get(Report, report_id).processed is False
        assert group_of(report_id) is None
        assert report_id in ungrouped_report_ids()


def test_a_fault_split_over_two_early_groups_ends_in_one_with_its_alert(app, filed,
                                                                          monkeypatch):
    """The second report of a fault started a group of its own (forced here); the groups'
    profiles are alike, so the new one absorbs the first, members and alert and all."""
    (first,) = filed(TUBE[:1])
    early = group_id_of(app, first)
    with app.app_context():
        db.session.add(Alert(kind="emerging", key=Alert.emerging_key(early), title="t",
                             raised_at=START, emerging_issue_id=early))
        db.session.commit()
    choose = grouping.choose
    forced = iter([True])
    monkeypatch.setattr(grouping, "choose",
                        lambda *args, **kw: None if next(forced, False) else choose(*args, **kw))
    later = filed(TUBE[1:])
    groups = {group_id_of(app, report_id) for report_id in [first, *later]}
    assert len(groups) == 1 and early not in groups
    (survivor,) = groups
    with app.app_context():
        assert db.session.get(EmergingIssue, early) is None
        alert = db.session.scalar(select(Alert))
        assert (alert.emerging_issue_id, alert.key) == (survivor, Alert.emerging_key(survivor))
        assert alert.cleared_at is None
        assert db.session.get(EmergingIssue, survivor).member_count == len(TUBE)


def test_a_group_absorbed_by_a_concurrent_job_is_skipped(app, filed):
    """Another job absorbed a lookalike group after this one chose it: nothing moves twice
    (without the lock, deleting the vanished row again failed)."""
    (report_id,) = filed(TUBE[:1])
    with app.app_context():
        joined = db.session.get(EmergingIssue, group_id_of(app, report_id))
        lookalike = EmergingIssue(status=EmergingStatus.OPEN, profile=dict(joined.profile),
                                  excluded={}, member_count=3, created_at=START)
        db.session.add(lookalike)
        db.session.flush()
        db.session.execute(delete(EmergingIssue).where(EmergingIssue.id == lookalike.id))
        grouping_service._absorb(joined, [lookalike])
        db.session.commit()
        assert db.session.get(EmergingIssue, joined.id).member_count == 1


def test_an_undecided_group_takes_reports_for_two_days_only(app, make_report):
    """A theme reported all along starts a new group after ACCEPT_HOURS, so no group grows
    for weeks into a profile broad enough to take in anything."""
    def arrive(text: str, hours: int) -> int:
        report_id = make_report(text, submitted=START + timedelta(hours=hours))
        with app.app_context():
            group_report(report_id)
        return group_id_of(app, report_id)

    first = arrive(TUBE[0], 0)
    assert arrive(TUBE[2], grouping_service.ACCEPT_HOURS) == first
    assert arrive(TUBE[3], grouping_service.ACCEPT_HOURS + 1) != first
