"""Which grouping features and thresholds? A quick replay of hand-written reports.

    python bench/grouping_features.py

Six faults, each written a few times in Swedish and English by hand and then
varied (a third without å/ä/ö, a third with a typo in one word), and generic
go-live reports (slowness, logins, training) are grouped one by one, in a
shuffled order, with ml.grouping's decision and every group as a candidate.
Printed per configuration: the mean share of a fault's reports in its largest
group ("fault"), that group's purity, and the share of generic reports that
went into a fault's group ("noise joined"). Then, for a known issue made of
half of each fault's reports, the share of the other half (and of generic
reports) that would join it at a few thresholds. The figures are in
ml/grouping.py's docstring.
"""

import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml import grouping
from ml.similarity import cosine

FAULTS = {
    "pneumatic": [
        ("Proverna som skickades med rörposten kom aldrig fram till labbet, inga provsvar "
         "i journalen."),
        "Rörposten registrerar inte proverna, labbet säger att de aldrig fått dem.",
        "Provtagits och skickats med rörpost men provsvaren syns inte, fick ta om blodprovet.",
        "Rörposten fungerar inte med nya systemet, proverna försvinner på vägen till labb.",
        "Samples sent by the pneumatic tube never arrive at the lab, no results in the record.",
        "Pneumatic tube samples are not registered by the lab since go-live.",
    ],
    "insulin": [
        ("Insulindosen dubblerades i läkemedelslistan efter uppdateringen, patienten fick "
         "dubbel dos."),
        "Insulin visas två gånger i läkemedelslistan, risk för dubbel dos.",
        "Efter uppdateringen står insulinet dubbelt på listan över läkemedel.",
        "Dubbla insulinordinationer i läkemedelslistan sedan i morse.",
        "Insulin dose appears twice on the medication list after the update.",
        "Duplicated insulin orders on the med list, patient nearly got a double dose.",
    ],
    "labels": [
        "Etiketterna till provrören skrivs ut tomma från etikettskrivaren.",
        "Etikettskrivaren skriver ut blanka etiketter, kan inte märka proverna.",
        "Tomma etiketter från skrivaren när vi ska märka provrör.",
        "Provrörsetiketter kommer ut utan streckkod och patientnamn.",
        "Label printer prints blank labels for the sample tubes.",
        "Tube labels come out empty from the label printer, cannot label specimens.",
    ],
    "allergy": [
        ("Allergivarningen syns inte i journalen, patienten med penicillinallergi fick nästan "
         "penicillin."),
        "Penicillinallergin visades inte när vi ordinerade, varningen saknas.",
        "Ingen allergivarning dyker upp i nya journalsystemet trots registrerad allergi.",
        "Överkänslighet mot penicillin syns inte vid ordination.",
        "Allergy warning for penicillin is not shown in the record when prescribing.",
        "No penicillin allergy alert appeared, the allergy was registered before go-live.",
    ],
    "radiology": [
        "Röntgenremissen försvinner efter att den signerats, röntgen har inte fått den.",
        "Signerade röntgenremisser kommer aldrig fram till röntgenavdelningen.",
        "Remissen till röntgen försvann när jag signerade den.",
        "Röntgen säger att remisserna saknas fast de är signerade.",
        "Radiology referrals disappear after signing, x-ray never receives them.",
        "Signed x-ray referral vanished, radiology has no record of it.",
    ],
    "wristband": [
        "Skannern läser inte streckkoden på de nya patientbanden.",
        "Streckkoden på id-bandet går inte att skanna vid läkemedelsutdelning.",
        "Kan inte skanna patientbandet, skannern piper men inget händer.",
        "Nya armbanden fungerar inte med skannern, får skriva in id för hand.",
        "Scanner cannot read the barcode on the new wristbands.",
        "Wristband barcode will not scan at medication administration.",
    ],
}

GENERIC = [
    "Systemet är segt idag.", "Allt går så långsamt, väntade flera minuter på varje bild.",
    "Det nya systemet är jättetrögt.", "Segt system hela förmiddagen.",
    "Systemet laddar och laddar.", "Väldigt långsamt när man öppnar patienten.",
    "Kan inte logga in.", "Inloggningen fungerar inte på morgonen.",
    "Fick inte logga in med kortet.", "Lösenordet fungerar inte längre.",
    "Utloggad hela tiden, måste logga in igen.", "Kortläsaren vill inte läsa mitt SITHS-kort.",
    "För lite utbildning inför starten.", "Vi har inte fått någon utbildning i systemet.",
    "Utbildningen var för kort, ingen vet hur man gör.",
    "Behöver mer utbildning på nattpersonalen.",
    "Vet inte hur man dokumenterar i nya systemet.", "Svårt att hitta någonting.",
    "Systemet hänger sig hela tiden.", "Datorn fryser när jag öppnar journalen.",
    "The system is very slow today.", "Everything takes ages to load.",
    "Slow system all morning.", "Screens freeze when opening a patient.",
    "Cannot log in.", "Login fails every morning.", "Password not accepted.",
    "Logged out constantly, have to log in again.", "Card reader does not read my card.",
    "Not enough training before go-live.", "We never got proper training.",
    "Training was too short, nobody knows how to do anything.",
    "Nurses on nights had no training.", "Hard to find anything in the new system.",
    "The system crashes all the time.", "Computer froze twice during rounds.",
    "Too many clicks for simple things.", "Många fler klick än förut.",
    "Stressigt med nya systemet, tar tid från patienterna.",
    "Stressful shift, system slows us down.",
]


def _typo(text: str, rng: random.Random) -> str:
    """The text with two neighbouring letters swapped in one of its longer words."""
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 7 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    return " ".join(words)


def reports(rng: random.Random) -> list[tuple[str, str]]:
    """(label, text) pairs: each fault 12 times (as written, folded, with a typo) and
    the generic reports 1.5 times."""
    result = []
    for label, texts in FAULTS.items():
        for text in texts:
            result.append((label, text))
            result.append((label, grouping.fold(text) if rng.random() < 0.5
                           else _typo(text, rng)))
    for text in GENERIC:
        result.append(("generic", text))
    for text in rng.sample(GENERIC, len(GENERIC) // 2):
        result.append(("generic", grouping.fold(text) if rng.random() < 0.5 else _typo(text, rng)))
    return result


def replay(items: list[tuple[str, str]], vectorize, join: float,
           similar=grouping.score) -> dict[str, float]:
    groups: list[grouping.Candidate] = []
    members: list[list[str]] = []
    for label, text in items:
        vector = vectorize(text)
        chosen = grouping.choose(vector, groups, join=join, similar=similar)
        if chosen is None:
            groups.append(grouping.Candidate(len(groups), vector, {}, 1))
            members.append([label])
        else:
            groups[chosen.key] = grouping.Candidate(
                chosen.key, grouping.added(chosen.profile, vector), {}, chosen.members + 1)
            members[chosen.key].append(label)
    shares, purities, fault_groups = [], [], set()
    for label in FAULTS:
        total = sum(1 for item_label, _ in items if item_label == label)
        best = max(range(len(members)), key=lambda g: members[g].count(label))
        fault_groups.add(best)
        shares.append(members[best].count(label) / total)
        purities.append(members[best].count(label) / len(members[best]))
    generic = sum(1 for label, _ in items if label == "generic")
    joined = sum(members[g].count("generic") for g in fault_groups)
    return {"fault": sum(shares) / len(shares), "purity": sum(purities) / len(purities),
            "noise joined": joined / generic}


def known_issue_joins(items: list[tuple[str, str]], vectorize,
                      thresholds: tuple[float, ...]) -> dict[float, tuple[float, float]]:
    """Per threshold: the share of a fault's later half joining a profile of its first
    half, and the share of generic reports joining any fault's profile."""
    by_label: dict[str, list[dict]] = {}
    for label, text in items:
        by_label.setdefault(label, []).append(vectorize(text))
    profiles = {label: grouping.summed(vectors[:len(vectors) // 2])
                for label, vectors in by_label.items() if label != "generic"}
    result = {}
    for threshold in thresholds:
        later = [grouping.score(v, profiles[label]) >= threshold
                 for label, vectors in by_label.items() if label != "generic"
                 for v in vectors[len(vectors) // 2:]]
        noise = [max(grouping.score(v, p) for p in profiles.values()) >= threshold
                 for v in by_label["generic"]]
        result[threshold] = (sum(later) / len(later), sum(noise) / len(noise))
    return result


#: (name, vectorize's options, score, join thresholds)
CONFIGURATIONS = [
    ("words only", {"word_share": 1.0}, cosine, (0.2, 0.25, 0.3)),
    ("characters only", {"word_share": 0.0}, cosine, (0.15, 0.2, 0.3)),
    ("both, summed 0.5/0.5", {}, cosine, (0.15, 0.2, 0.25)),
    ("both, summed 0.7/0.3", {"word_share": 0.7}, cosine, (0.2, 0.25)),
    ("both, the better block", {}, grouping.score, (0.2, 0.22, 0.25, 0.3)),
    ("better block, 12+60 feat.", {"char_features": 60}, grouping.score, (0.22, 0.25)),
    ("better block, 8+28 feat.", {"word_features": 8}, grouping.score, (0.22, 0.25)),
]


def main() -> None:
    seeds = range(5)
    print(f"{'features':<28} {'join':>5} {'fault':>6} {'purity':>7} {'noise joined':>13}")
    for name, options, similar, thresholds in CONFIGURATIONS:
        def vectorize(text, options=options):
            return grouping.vectorize(text, **options)
        for join in thresholds:
            totals: Counter[str] = Counter()
            for seed in seeds:
                rng = random.Random(seed)
                items = reports(rng)
                rng.shuffle(items)
                totals.update(replay(items, vectorize, join, similar))
            figures = {key: value / len(seeds) for key, value in totals.items()}
            print(f"{name:<28} {join:>5.2f} {figures['fault']:>6.2f} {figures['purity']:>7.2f} "
                  f"{figures['noise joined']:>13.2f}")
    print("\nknown issue made of half of each fault (default features): later half joins / "
          "generic joins")
    items = reports(random.Random(0))
    for threshold, (later, noise) in known_issue_joins(
            items, grouping.vectorize, (0.15, 0.2, 0.25, 0.3)).items():
        print(f"  {threshold:.2f}: {later:.2f} / {noise:.2f}")


if __name__ == "__main__":
    main()
