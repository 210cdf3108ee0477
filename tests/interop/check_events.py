"""Read crampscan's event files with the field's own readers and compare
them with episodes.csv (issue 18, item 6).

Usage: python check_events.py OUT_DIR RECORDING_EDF FS_HZ

OUT_DIR is a `crampscan scan --events all` output of one night whose EMG
is RECORDING_EDF, sampled at FS_HZ. Every event file must hold one event
per row of episodes.csv, of the same kind, on the same channel, with its
onset and end within one sample. Readers: MNE (the EDF+ file, with its
`@@<label>` channel links), Luna through lunapi (the EDF+, the NSRR XML and
the .annot, each over the recording), pandas (the BIDS events.tsv) and
the standard library (the XML's fields, the BIDS events.json levels).
Exits non-zero with a message naming the file and the first difference.
"""

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import mne
import numpy as np
import pandas as pd

# The .annot classes and the NSRR XML concepts of each kind (README,
# "Event files").
ANNOT_CLASS = {"cramp": "cramp", "lm": "lm", "sustained": "sustained", "movement": "body_movement"}
XML_OWN_CONCEPT = {"Leg cramp|Cramp (crampscan)": "cramp",
                   "Sustained leg muscle contraction|Sustained (crampscan)": "sustained",
                   "Body movement|Movement (crampscan)": "movement"}


def luna_class(concept):
    """The class name Luna gives an XML concept: brackets dropped, spaces to underscores."""
    return concept.replace(" (", "_").replace(")", "").replace(" ", "_")


LUNA_OWN_CLASS = {luna_class(c): k for c, k in XML_OWN_CONCEPT.items()}


def lm_or(concept, own):
    """The kind of an XML concept: ours, or an NSRR limb-movement one."""
    if concept in own:
        return own[concept]
    return "lm" if ("LM" in concept or "imb movement" in concept or "eg movement" in concept) else concept

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def same_events(name, want, got, tol_s):
    """`want` and `got`: lists of (kind, channel, start_s, end_s), any order."""
    key = lambda e: (round(e[2], 3), e[1], e[0])
    want, got = sorted(want, key=key), sorted(got, key=key)
    check(len(want) == len(got), f"{name}: {len(got)} events, episodes.csv has {len(want)}")
    for w, g in zip(want, got):
        if w[0] != g[0] or w[1] != g[1] or abs(w[2] - g[2]) > tol_s or abs(w[3] - g[3]) > tol_s:
            check(False, f"{name}: {g} where episodes.csv has {w}")
            return
    check(True, f"{name}: kinds, channels, onsets and ends within {tol_s * 1000:.1f} ms")


def luna_table(proj, ident, recording, annot=None):
    p = proj.inst(ident)
    p.attach_edf(str(recording))
    if annot is not None:
        p.attach_annot(str(annot))
    p.silent_proc("ANNOTS") if hasattr(p, "silent_proc") else p.eval("ANNOTS")
    tab = p.table("ANNOTS", "ANNOT_INST_T1_T2")
    if annot is None:
        return tab
    # The recording's own EDF+ annotations (the simulator's truth) aside.
    return tab[tab["ANNOT"] != "edf_annot"]


def main():
    out, recording, fs_hz = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    tol_s = 1.0 / fs_hz
    eps = pd.read_csv(out / "episodes.csv")
    night = eps["night"].iloc[0]
    nights = out / "nights"
    want = [(r.kind, r.channel, r.start_s, r.end_s) for r in eps.itertuples()]
    check(len(want) > 0 and {"cramp", "lm", "movement"} <= set(eps["kind"]),
          f"episodes.csv: {len(want)} episodes of kinds {sorted(set(eps['kind']))}")

    # EDF+ with MNE: the public reader gives `kind@@channel`, the EDF
    # reader's own parser links the channel when given the recording's.
    edf = nights / f"{night}.events.edf"
    a = mne.read_annotations(edf)
    got = [(*d.split("@@"), o, o + du) for d, o, du in zip(a.description, a.onset, a.duration)]
    same_events(f"{edf.name} (mne.read_annotations)", want, got, tol_s)
    raw = mne.io.read_raw_edf(recording, preload=False, verbose="error")
    try:
        from mne.io.edf.edf import _read_annotations_edf
    except ImportError:
        _read_annotations_edf = None
    if _read_annotations_edf is not None:
        linked = _read_annotations_edf(str(edf), ch_names=raw.ch_names)
        if isinstance(linked, tuple):  # older MNE: (onset, duration, description)
            print("skip MNE channel links: this MNE's EDF parser returns no channels")
        else:
            got = [(d, ch[0] if ch else "", o, o + du)
                   for d, ch, o, du in zip(linked.description, linked.ch_names, linked.onset, linked.duration)]
            same_events(f"{edf.name} (MNE's EDF parser, channels linked)", want, got, tol_s)
            raw.set_annotations(linked)
            check(len(raw.annotations) == len(want), f"{edf.name}: set on the recording in MNE (overlay)")
    # EDFbrowser lays an annotation file over a recording by its start.
    start = lambda f: f.read_bytes()[168:184].decode()
    check(start(edf) == start(recording), f"{edf.name}: start {start(edf)} is the recording's {start(recording)}")

    # BIDS tsv with pandas, and its sidecar.
    tsv = nights / f"{night}_events.tsv"
    t = pd.read_csv(tsv, sep="\t")
    check(list(t.columns) == ["onset", "duration", "trial_type", "channel"], f"{tsv.name}: columns {list(t.columns)}")
    got = [(r.trial_type, r.channel, r.onset, r.onset + r.duration) for r in t.itertuples()]
    same_events(f"{tsv.name} (pandas)", want, got, tol_s)
    levels = json.loads((nights / f"{night}_events.json").read_text())["trial_type"]["Levels"]
    check(set(t["trial_type"]) <= set(levels), f"{night}_events.json: a level for every trial_type")

    # NSRR XML with the standard library: fields as NSRR's files have them.
    xml = nights / f"{night}.events.xml"
    events = ET.parse(xml).getroot().find("ScoredEvents").findall("ScoredEvent")
    got = []
    for e in events[1:]:  # the first is the recording start
        kind = lm_or(e.findtext("EventConcept"), XML_OWN_CONCEPT)
        start, dur = float(e.findtext("Start")), float(e.findtext("Duration"))
        got.append((kind, e.findtext("SignalLocation"), start, start + dur))
    same_events(f"{xml.name} (ElementTree)", want, got, tol_s)

    # Luna, each file over the recording.
    try:
        import lunapi as lp
    except ImportError as e:
        print(f"skip Luna: lunapi cannot be imported ({e})")
        return
    proj = lp.proj()
    classes = {v: k for k, v in ANNOT_CLASS.items()}
    tab = luna_table(proj, "annot", recording, nights / f"{night}.events.annot")
    got = [(classes.get(r.ANNOT, r.ANNOT), r.CH, r.START, r.STOP) for r in tab.itertuples()]
    same_events(f"{night}.events.annot (lunapi)", want, got, tol_s)
    tab = luna_table(proj, "xml", recording, xml)
    got = [(lm_or(r.ANNOT, LUNA_OWN_CLASS), r.CH, r.START, r.STOP) for r in tab.itertuples()]
    same_events(f"{xml.name} (lunapi)", want, got, tol_s)
    tab = luna_table(proj, "edf", edf)
    got = [(*r.INST.split("_", 1), r.START, r.STOP) for r in tab.itertuples() if r.ANNOT == "edf_annot"]
    same_events(f"{edf.name} (lunapi, kind_channel instances)", want, got, tol_s)


main()
if failures:
    print(f"{len(failures)} interoperability checks failed", file=sys.stderr)
    sys.exit(1)
print("all interoperability checks passed")
