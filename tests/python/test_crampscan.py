"""The Python module against the CLI (issue 20): known answers only.

Run by tests/python/run.sh (from .ci/run), which builds the wheel with
maturin, installs it with numpy, pandas, pytest and mne into a virtual
environment, and gives the CLI binary as CRAMPSCAN_BIN.
"""

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crampscan

BIN = os.environ.get("CRAMPSCAN_BIN", "target/release/crampscan")


def channels(path, kind):
    """The channels of `path` of one kind, as crampscan.read gives them."""
    return [c for c in crampscan.read(path) if c["kind"] == kind]


def cli(*args):
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    return r


@pytest.fixture(scope="module")
def wav_night(tmp_path_factory):
    """A simulated 0.15 h night (WAV, 1 kHz EMG, 50 Hz accelerometer) and the CLI's scan of it."""
    d = tmp_path_factory.mktemp("night")
    crampscan.simulate(d / "in", nights=1, hours=0.15, seed=5, format="wav")
    r = cli("scan", d / "in", "-o", d / "out")
    assert r.returncode == 0, r.stderr
    return d


def test_scan_gives_the_cli_tables(wav_night):
    t = crampscan.scan([wav_night / "in"])
    for name in ["nights", "episodes"]:
        want = pd.read_csv(wav_night / "out" / f"{name}.csv")
        got = t[name]
        if name == "nights":  # the output folder differs, nothing else
            want, got = want.drop(columns=["source"]), got.drop(columns=["source"])
        pd.testing.assert_frame_equal(got, want)
    assert len(t["episodes"]) > 0 and {"cramp", "lm"} <= set(t["episodes"]["kind"])


def test_detect_on_arrays_equals_the_cli_on_the_file(wav_night):
    emg = channels(wav_night / "in" / "night01_emg.wav", "emg")
    acc = channels(wav_night / "in" / "night01_acc.wav", "accel")
    x = np.stack([c["samples"] for c in emg])  # channels x samples, µV
    a = np.stack([c["samples"] for c in acc]).T  # samples x channels, g
    n = crampscan.detect(x, emg[0]["fs_hz"], channel_names=[c["name"] for c in emg], accel=a,
                         accel_fs_hz=acc[0]["fs_hz"], night="night01", start_time="2026-01-01T23:00:00")
    want = pd.read_csv(wav_night / "out" / "episodes.csv")
    pd.testing.assert_frame_equal(n.episodes, want)
    s = pd.read_csv(wav_night / "out" / "nights.csv")
    pd.testing.assert_frame_equal(n.summary.drop(columns=["source"]), s.drop(columns=["source"]))
    assert n.quality == [] and isinstance(n.warnings, list)
    assert len(n.leg_movements) >= (want["kind"] == "lm").sum()


def test_a_sine_of_known_amplitude_reads_its_rms(tmp_path):
    fs, amp = 1000.0, 60.0
    t = np.arange(0, 90, 1 / fs)
    x = 2.0 * np.random.default_rng(7).standard_normal(t.size)
    on = (t >= 40) & (t < 43)  # a 3 s burst: an LM-like contraction
    x[on] += amp * np.sin(2 * np.pi * 80.0 * t[on])
    n = crampscan.detect(x, fs, channel_names=["emg_left_uv"])
    assert len(n.episodes) == 1, n.episodes
    e = n.episodes.iloc[0]
    # A sine of amplitude A has RMS A/sqrt(2); the noise adds 2 µV in quadrature.
    assert abs(e["mean_rms_uv"] - np.hypot(amp / np.sqrt(2), 2.0)) < 0.05 * amp / np.sqrt(2), e
    assert abs(e["start_s"] - 40) < 0.05 and abs(e["end_s"] - 43) < 0.05, e


def test_bad_input_raises_the_cli_message(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "n1.csv").write_text("time_s,emg_left_uv\n0.000,1.0\n0.001,abc\n")
    r = cli("scan", bad, "-o", tmp_path / "out")
    assert r.returncode != 0
    want = pd.read_csv(tmp_path / "out" / "errors.csv")["error"].iloc[0]
    got = crampscan.scan([bad])["errors"]["error"].iloc[0]
    assert got == want and "n1.csv" in want and "line 3" in want, want
    with pytest.raises(crampscan.CrampscanError, match="line 3"):
        crampscan.read(bad / "n1.csv")
    with pytest.raises(crampscan.CrampscanError):
        crampscan.detect(np.zeros((2, 10)), 1000.0, channel_names=["a", "b", "c"])
    with pytest.raises(crampscan.CrampscanError, match="does not exist"):
        crampscan.Config.default().set("detector.no_such_field", 1)


def test_dtypes_are_those_of_the_tables(wav_night):
    t = crampscan.scan([wav_night / "in"])
    e, s = t["episodes"], t["nights"]
    assert e["start_s"].dtype == np.float64 and e["end_s"].dtype == np.float64
    # Strings: object in pandas 1-2, str in pandas 3.
    assert pd.api.types.is_string_dtype(e["kind"]) and pd.api.types.is_string_dtype(e["channel"])
    assert e["kind"].map(type).eq(str).all()
    assert s["n_cramps"].dtype == np.int64 and s["lm_index"].dtype == np.float64


def test_config_round_trips_through_toml():
    c = crampscan.Config.default().set("detector.onset_above_uv", 9.5)
    again = crampscan.Config.from_toml(c.to_toml())
    assert again.to_toml() == c.to_toml()
    assert "onset_above_uv = 9.5" in c.to_toml()
    r = cli("scan", "--print-config")
    assert r.returncode == 0 and r.stdout == crampscan.Config.default().to_toml()


def test_mne_recipe(wav_night):
    """README recipe: an mne.io.Raw in volts into detect, episodes back as Annotations."""
    mne = pytest.importorskip("mne")
    emg = channels(wav_night / "in" / "night01_emg.wav", "emg")
    info = mne.create_info([c["name"] for c in emg], emg[0]["fs_hz"], ch_types="emg")
    raw = mne.io.RawArray(np.stack([c["samples"] for c in emg]) * 1e-6, info, verbose="error")
    # The recipe.
    picks = mne.pick_types(raw.info, emg=True)
    x_uv = raw.get_data(picks=picks) * 1e6
    night = crampscan.detect(x_uv, raw.info["sfreq"], channel_names=[raw.ch_names[i] for i in picks])
    ep = night.episodes
    ann = mne.Annotations(ep["start_s"], ep["duration_s"], ep["kind"], ch_names=[[c] for c in ep["channel"]])
    raw.set_annotations(ann)
    # Without the accelerometer the same night: as many episodes, on the same channels.
    assert len(raw.annotations) == len(ep) > 0
    assert [c[0] for c in raw.annotations.ch_names] == list(ep["channel"])
