"""Texts for the go-live replay (bench/golive.py): themes, and how staff mangle them.

A *theme* is a list of templates (Swedish, English and mixed; terse night-shift notes
and long narratives) with `{slot}` placeholders filled from `SLOTS`; `write` renders
one and `mangle` then types it the way a hurried person does: without å/ä/ö, with
swapped, dropped or doubled letters, abbreviated, in lower case. Everything is drawn
from the `random.Random` passed in, so a seed gives the same texts every time. The
texts were written for this bench; none is taken from real reports.
"""

import math
import random
import re

Theme = tuple[str, ...]

SLOTS: dict[str, tuple[str, ...]] = {
    "time": ("06.40", "07.15", "08.30", "09.50", "11.20", "13.05", "14.45", "16.30",
             "19.10", "22.40", "02.15", "04.30"),
    "n": ("2", "3", "4", "5", "6", "7", "tre", "fyra", "flera"),
    "room": ("sal 3", "sal 7", "sal 12", "rum 4", "rum 19", "säng 2", "plats 6"),
    "sample": ("blodgas", "CRP", "Hb", "elstatus", "odlingar", "troponin", "blodstatus",
               "INR", "laktat", "kreatinin"),
    "sample_en": ("blood gas", "CRP", "Hb", "electrolytes", "cultures", "troponin",
                  "full blood count", "INR", "lactate"),
    "minutes": ("20", "30", "40", "45", "60", "90"),
    "drug": ("Metoprolol 50 mg", "Waran 2,5 mg", "Furix 40 mg", "Alvedon 1 g",
             "Morfin 5 mg", "Insulatard 12 E", "Eliquis 5 mg", "Kåvepenin 1 g",
             "Levaxin 100 mikrog", "Stesolid 5 mg"),
    "from_unit": ("akuten", "IVA", "ortopeden", "avd 21", "uppvaket", "kirurgen", "HIA"),
    "from_unit_en": ("the ED", "ICU", "orthopaedics", "ward 21", "recovery", "surgery"),
    "screen": ("journalen", "läkemedelslistan", "översikten", "vårdplanen", "provlistan",
               "inskrivningen"),
    "screen_en": ("the record", "the medication list", "the overview", "the care plan",
                  "the lab list"),
    "thing": ("skrivaren på expeditionen", "etikettskrivaren", "skrivaren i läkemedelsrummet",
              "skrivaren vid mottagningen"),
    "thing_en": ("the printer at the nurses' station", "the label printer",
                 "the printer in the med room"),
    "person": ("IT-supporten", "nattpersonalen", "superanvändarna", "Lena på kansliet",
               "kollegorna på avd 14", "vår enhetschef", "farmaceuten"),
    "person_en": ("the IT support", "the night team", "the super users", "our pharmacist",
                  "the ward manager", "the staff on ward 14"),
}

QUIET: dict[str, Theme] = {
    "printer": (
        "{thing} har pappersstopp igen, tredje gången den här veckan.",
        "{thing} skriver inte ut, står bara 'väntar'. Fick gå till en annan våning.",
        "skrivaren funkar ej. igen.",
        "{thing_en} keeps jamming, we lose time every morning.",
        "Printer offline again, printed from the office instead.",
        "Tonern i {thing} är slut och ingen vet vem som beställer ny.",
        "Printern på exp krånglar, papper fastnar hela tiden",
    ),
    "screen": (
        "Skärmen i {room} flimrar, svårt att läsa.",
        "Datorn på expeditionen är seg på morgonen, tar {minutes} sekunder att starta.",
        "{screen} laddade långsamt en stund vid {time} men gick över.",
        "The screen on the computer in {room} flickers.",
        "Datorn i läkemedelsrummet startar om sig själv ibland.",
        "Mus och tangentbord vid {room} funkar dåligt, byt gärna.",
    ),
    "training_wish": (
        "Önskar en repetitionsutbildning i {screen} för oss som jobbar natt.",
        "Skulle vara bra med en kort genomgång av hur man dokumenterar vätskebalans.",
        "Could we get a refresher on how to write discharge notes?",
        "Nya kollegor behöver mer introduktion i {screen}, de frågar mycket.",
        "Vi vill gärna ha en lathund för att boka tolk i systemet.",
        "would be nice with a short course on the new wound templates",
    ),
    "praise": (
        "Stort tack till {person} som hjälpte oss igår kväll!",
        "Tack {person}, snabb hjälp när det krånglade.",
        "Big thanks to {person_en}, really helpful during a busy shift.",
        "Vill bara säga att samarbetet med {person} fungerar jättebra.",
        "Thanks to {person_en} for sorting out the rota so fast.",
        "Beröm till {person} för bra stöd i helgen.",
    ),
    "complaint": (
        "Parkeringen är full redan {time}, vi som börjar sen hittar ingen plats.",
        "Kaffemaskinen i personalrummet har varit trasig i två veckor.",
        "Hissen vid entré B står still igen, patienttransporter tar omvägar.",
        "Det är för varmt i {room}, patienterna klagar.",
        "The canteen closes too early for the evening shift.",
        "Schemat för sommaren kom ut alldeles för sent.",
        "Omklädningsrummet saknar skåp till alla nyanställda.",
        "Too few parking spaces for staff after the building works started.",
        "Tvättmaskinen på avdelningen läcker vatten.",
    ),
    "wish": (
        "Vore bra om man kunde sortera {screen} på datum.",
        "Önskemål: visa patientens vikt direkt i {screen}.",
        "It would help if {screen_en} showed allergies at the top.",
        "Kan man få större text i {screen}? Svårt att läsa på natten.",
        "Förslag: en knapp för att skriva ut dagens ordinationer direkt.",
    ),
    "incident": (
        "Pat i {room} föll vid toalettbesök {time}, ingen synlig skada, läkare informerad.",
        "Provröret saknade etikett när det kom till labb, fick ta om provet.",
        "Patient in {room} received the evening dose {minutes} minutes late, busy ward.",
        "Larmknappen i {room} fungerade inte vid kontroll, felanmält till fastighet.",
        "Fel kost serverades till pat i {room} trots allergi, upptäcktes innan pat åt.",
        "Syrgasslangen i {room} var trasig, byttes direkt.",
    ),
    "slow": (
        "{screen} är seg idag.",
        "Systemet var långsamt vid {time}, tog lång tid att öppna journalen.",
        "Slow system this afternoon, took ages to sign notes.",
    ),
    "login": (
        "Fick inte logga in på datorn i {room}, fick byta dator.",
        "SITHS-kortet läses inte alltid vid första försöket.",
        "Locked out of my account after changing password.",
    ),
}

FLOOD: dict[str, Theme] = {
    "slowness": (
        "Systemet är extremt segt, tar {minutes} sekunder att öppna {screen}.",
        "Allt går så långsamt idag, vi hinner inte med ronden.",
        "{screen} laddar och laddar, snurrande hjul hela förmiddagen.",
        "segt segt segt. {screen} hänger sig.",
        "The new system is unbearably slow, every click takes forever.",
        "Slow again, {screen_en} froze {n} times this morning.",
        "Det tar {minutes} min att skriva in en pat, systemet hänger.",
        "Nytt journalsystem sjukt långsamt, kön på akuten växer.",
        "Mycket långa svarstider i {screen}, fick vänta vid varje signering.",
        "Everything lags. Took {minutes} minutes to admit one patient.",
        "Systemet frös helt vid {time}, fick starta om datorn.",
        "Det är så segt att vi skriver på papper och för in efteråt. Ohållbart i längden, "
        "vi är två ssk på {n} patienter och varje klick i {screen} tar flera sekunder.",
        "Svarstiderna är katastrofala sedan bytet, {screen} laggar hela tiden",
    ),
    "login": (
        "Kan inte logga in i nya systemet, SITHS-kortet fungerar inte.",
        "Inloggningen misslyckas hela tiden, får felmeddelande om behörighet.",
        "Blir utloggad var femte minut och måste logga in igen.",
        "Cannot log in, the card reader says the certificate is invalid.",
        "Login fails with 'no access', I am a nurse on this ward!",
        "Saknar behörighet att se mina patienter i nya systemet.",
        "kommer inte in. login funkar ej. {time}",
        "Nytt lösenord krävs men det går inte att byta, fastnar i en loop.",
        "Locked out again, had to use a colleague's login to give meds, not ok.",
        "Läkarna på natten kom inte in i systemet på {minutes} minuter, fick ringa support.",
        "Behörigheterna är fel, jag ser inte läkemedelslistan för min avdelning.",
        "SITHS-kortet läses inte av, har provat {n} datorer.",
    ),
    "training": (
        "Vi har inte fått tillräcklig utbildning i nya systemet.",
        "Ingen har visat hur man ordinerar vid behov-läkemedel i nya journalen.",
        "Vet inte hur man dokumenterar omvårdnadsstatus, hittar inte rätt mall.",
        "Need more training, nobody knows how to discharge a patient in the new system.",
        "We had one hour of e-learning and now we are expected to run the ward on it.",
        "Superanvändarna hinner inte hjälpa alla, vi behöver mer utbildning.",
        "Hittar inte var man kvitterar given dos. Utbildningen var för kort.",
        "Where do I find the fluid balance chart? No one on the evening shift knows.",
        "Utbildningen handlade om fel saker, vi lärde oss inte det vi gör varje dag.",
        "Nattpersonalen fick ingen utbildning alls innan go-live.",
        "behöver hjälp m nya systemet, ingen superanvändare på kvällen",
    ),
}

FAULTS: dict[str, Theme] = {
    "tube": (
        "Prover skickade med rörposten syns inte i journalen.",
        "Skickade {sample} med rörposten {time}, labb har fått det men svaret kommer aldrig "
        "in i journalen.",
        "Rörposten: provsvar kommer inte fram till {screen}.",
        "Labbsvaren från rörpostprover dyker inte upp, fick ringa labb för {sample}.",
        "rörpost prover ej i journal. {n} st i natt.",
        "Lab results from samples sent by the pneumatic tube never reach the record.",
        "Sent {sample_en} by the tube at {time}, lab says it is done, nothing in the chart.",
        "Tube post samples: results missing in the EHR, had to phone the lab.",
        "Provsvar på prover som gått via rörposten saknas i journalen, prover tagna på "
        "papper går igenom.",
        "{sample} skickat m rörpost för {minutes} min sen, labbet har svarat men inget syns "
        "i journalen. Fick ringa och läsa upp värdet.",
        "Vi tog {sample} på pat i {room} och skickade i rörposten, svaret kom aldrig in. "
        "Läkaren väntade på värdet innan beslut om behandling. Labb bekräftar att provet "
        "är analyserat. Samma sak hände med {n} andra prover under passet.",
        "rörposten funkar men svaren kommer inte in i journalsystemet??",
        "Labbsvar saknas för allt som går via rörpost sedan i morse.",
        "Results from the tube system do not show up in {screen_en}, only phoned results.",
        "Rorpost provsvar syns inte, {sample} saknas i provlistan fast labb har svarat.",
    ),
    "doses": (
        "Läkemedelslistan visar dubbla doser efter överflyttning från {from_unit}.",
        "Efter flytt från {from_unit} står {drug} två gånger i listan, alltså dubbel dos.",
        "Dubbla ordinationer på alla pat som kommer från {from_unit}.",
        "Medication list shows every dose twice after transfer from {from_unit_en}.",
        "Doubled doses on the med list for patients moved from {from_unit_en}, nearly gave "
        "{drug} twice.",
        "Pat överflyttad från {from_unit}, i läkemedelslistan är dosen dubblerad: {drug} "
        "visas som dubbelt så mycket.",
        "dubbel dos i lm-listan efter överflyttning. igen.",
        "Vid överflyttning dubbleras ordinationerna, {drug} stod två gånger. Upptäckte det "
        "vid dubbelkontroll innan administrering.",
        "After the transfer the med list duplicated {drug}, so the dose looked doubled.",
        "Överflyttad pat från {from_unit}: läkemedelslistan har alla doser dubbla, "
        "nästan gett {drug} två gånger. Ssk upptäckte vid signering. Läkare fick gå "
        "igenom hela listan manuellt, tog {minutes} min.",
        "Dosen är fördubblad i listan när pat flyttas mellan avdelningar.",
        "transfer från {from_unit} -> med list dubbla doser, {drug} x2",
    ),
    "wristband": (
        "Armbandsetiketten skrivs ut med fel patients streckkod.",
        "ID-bandet som skrevs ut till pat i {room} hade en annan patients streckkod.",
        "Skannade armbandet och fick upp en annan patient i systemet.",
        "Wristband labels print the barcode of the wrong patient.",
        "Printed a new wristband, scanned it and it opened another patient's record.",
        "Patientarmband med fel streckkod från etikettskrivaren, {n} st idag.",
        "fel streckkod på armband. skannade -> annan pat.",
        "Armbanden som skrivs ut får streckkoden från förra patienten i kön. Upptäckte när "
        "jag skulle ge {drug} och skannern visade fel namn. Alla armband idag kontrolleras "
        "nu manuellt.",
        "The barcode on the wristband belongs to a different patient, caught it at the "
        "bedside scan.",
        "Etikett till id-band har fel pats streckkod men rätt namn i klartext!",
        "Wrong patient barcode on wristbands printed on the label printer, {n} so far.",
    ),
    "referrals": (
        "Röntgenremisser försvinner efter signering, röntgen har inte fått dem.",
        "Skickade remiss till röntgen {time}, den syns inte hos röntgen.",
        "Referrals to radiology disappear after signing, radiology never gets them.",
        "Remissen till DT försvann, fick skriva den på nytt.",
        "röntgenremiss borta efter signering. {n} st.",
        "Radiology referral vanished from the list after I signed it.",
        "Remisser till röntgen kommer inte fram, pat i {room} har väntat på sin "
        "undersökning i flera timmar och röntgen säger att ingen remiss finns.",
        "Signed referral for CT, it is not in radiology's queue.",
        "Röntgenremisserna hamnar ingenstans efter att man signerat dem.",
    ),
}

#: Areas and report kinds of each theme, as the form would have them.
AREAS: dict[str, tuple[str, ...]] = {
    "printer": ("printing",), "screen": ("other", "records"), "training_wish": ("other",),
    "praise": ("other",), "complaint": ("other",), "wish": ("records", "other"),
    "incident": ("other", "medication", "test_results"), "slow": ("records", "other"),
    "login": ("login",), "slowness": ("records", "other", "ordering"),
    "training": ("other", "records", "medication"), "tube": ("test_results", "integrations"),
    "doses": ("medication",), "wristband": ("printing", "records"),
    "referrals": ("ordering", "integrations"),
}
FEEDBACK_THEMES = frozenset({"praise", "wish", "training_wish", "training", "complaint"})
HARMFUL_THEMES = frozenset({"incident", "tube", "doses", "wristband", "referrals"})

DIACRITICS = str.maketrans("åäöÅÄÖé", "aaoAAOe")
ABBREVIATIONS = {
    "patienten": "pat", "patient": "pat", "patienter": "pat", "avdelningen": "avd",
    "avdelning": "avd", "ungefär": "ca", "läkemedel": "lm", "sjuksköterska": "ssk",
    "undersköterska": "usk", "minuter": "min", "inte": "ej", "och": "o", "med": "m",
    "because": "bc", "please": "pls", "with": "w/", "minutes": "mins", "patients": "pts",
}
KEYBOARD_NEIGHBOURS = {"a": "s", "s": "d", "e": "r", "r": "t", "t": "y", "o": "p",
                       "i": "o", "n": "m", "m": "n", "l": "k", "k": "j", "d": "f"}


def write(theme: Theme, rng: random.Random) -> str:
    """One report of `theme`, its slots filled."""
    template = rng.choice(theme)
    return re.sub(r"\{(\w+)\}", lambda match: rng.choice(SLOTS[match.group(1)]), template)


def typo(word: str, rng: random.Random) -> str:
    """`word` with one slip: two letters swapped, one dropped, doubled or mistyped."""
    if len(word) < 4:
        return word
    at = rng.randrange(1, len(word) - 1)
    slip = rng.randrange(4)
    if slip == 0:
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if slip == 1:
        return word[:at] + word[at + 1:]
    if slip == 2:
        return word[:at] + word[at] + word[at:]
    return word[:at] + KEYBOARD_NEIGHBOURS.get(word[at], word[at]) + word[at + 1:]


def abbreviate(text: str) -> str:
    return re.sub(r"\w+", lambda m: ABBREVIATIONS.get(m.group(0).lower(), m.group(0)), text)


def mangle(text: str, rng: random.Random, typos: float = 1.0) -> str:
    """`text` as a hurried person types it; `typos` is the mean number of slips."""
    if rng.random() < 0.35:
        text = text.translate(DIACRITICS)
    if rng.random() < 0.3:
        text = abbreviate(text)
    words = text.split(" ")
    for _ in range(poisson(typos, rng)):
        at = rng.randrange(len(words))
        words[at] = typo(words[at], rng)
    text = " ".join(words)
    if rng.random() < 0.25:
        text = text.lower().rstrip(".!")
    return text


def poisson(mean: float, rng: random.Random) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count

