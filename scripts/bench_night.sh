#!/usr/bin/env bash
# Whole-run benchmark: crampscan against the I/O floor and the scipy way.
#
#   bash scripts/bench_night.sh [--quick] [--no-scipy] [--no-48h] [--no-psg]
#
# Generates (once, cached in $CRAMPSCAN_BENCH_DIR, default /tmp/crampscan-bench)
# an 8-hour night (2 EMG channels at 1 kHz, 3 accelerometer axes at 50 Hz) as
# WAV and as CSV, a 48-hour WAV recording and a batch of 8 one-hour WAV
# nights; then reports wall time, CPU time and peak RSS (/usr/bin/time -v
# fields) for: crampscan scan; the I/O floor (cat to /dev/null, and a minimal
# Rust read of every sample: target/release/read_floor); the detector's own
# floor (the read plus only the rejection cascade and the windowed FFT:
# read_floor stages); and the scipy
# reference (scripts/bench_scipy.py, in a virtualenv under /tmp with numpy,
# scipy and soundfile installed on first use). Each figure is the best of 3
# runs. --quick uses a 1-hour night and skips the 48-hour recording.
# Unless --no-psg, also a night shaped like a clinical PSG export (EDF+C, 22
# signals at 1-512 Hz with the two legs at 512 Hz, written by pyedflib with
# scripts/make_psg_edf.py), against cat and against pyedflib reading only
# the two leg channels.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
hours=8
scipy=1
long=1
psg=1
for a in "$@"; do
    case $a in
        --quick) hours=1; long=0 ;;
        --no-scipy) scipy=0 ;;
        --no-48h) long=0 ;;
        --no-psg) psg=0 ;;
        *) echo "usage: $0 [--quick] [--no-scipy] [--no-48h] [--no-psg]" >&2; exit 2 ;;
    esac
done
cargo build --release --quiet --bins
bin=$repo/target/release/crampscan
floor=$repo/target/release/read_floor
work=${CRAMPSCAN_BENCH_DIR:-/tmp/crampscan-bench}
mkdir -p "$work"
runs=3

gen() { # DIR simulate-args...
    local dir=$1
    shift
    if [ ! -f "$dir/.done" ]; then
        rm -rf "$dir"
        echo "generating $dir ..." >&2
        "$bin" simulate -o "$dir" "$@" 2>/dev/null
        touch "$dir/.done"
    fi
}

# best-of-$runs: prints "wall_s cpu_s rss_mb"
measure() {
    local best=""
    for _ in $(seq $runs); do
        /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || {
            local rc=$?
            if [ $rc -ne 3 ]; then cat "$work/stderr.txt" >&2; echo "command failed: $*" >&2; exit 1; fi
        }
        local line
        line=$(tail -1 "$work/time.txt" | awk '{printf "%.3f %.3f %.1f", $1, $2 + $3, $4 / 1024}')
        if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN{split(a,x," "); split(b,y," "); exit !(x[1] < y[1])}'; then
            best=$line
        fi
    done
    echo "$best"
}

row() { # label "wall cpu rss"
    printf '| %-44s | %8s | %8s | %8s |\n' "$1" $2
}

gen "$work/wav$hours" --hours "$hours" --format wav --seed 1
gen "$work/csv$hours" --hours "$hours" --format csv --seed 1
wav=$work/wav$hours
csv=$work/csv$hours
nights_out=$work/out
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); night: ${hours} h, 2 EMG at 1 kHz + 3 accelerometer axes at 50 Hz"
echo
printf '| %-44s | %8s | %8s | %8s |\n' "what" "wall s" "cpu s" "RSS MB"
printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "----------" "----------" "----------"
cat_wav=$(measure bash -c "cat $wav/night01_emg.wav $wav/night01_acc.wav > /dev/null")
row "WAV: cat to /dev/null (I/O floor)" "$cat_wav"
floor_wav=$(measure bash -c "$floor wav $wav/night01_emg.wav && $floor wav $wav/night01_acc.wav")
row "WAV: minimal Rust read of the samples" "$floor_wav"
# The floor of the default detector itself: the read plus only the two
# stages it cannot skip (rejection cascade, windowed FFT), one task per
# channel. What crampscan adds on top of this is all the rest.
stages_wav=$(measure bash -c "$floor stages $wav/night01_emg.wav && $floor wav $wav/night01_acc.wav")
row "WAV: read + rejection cascade + FFT only" "$stages_wav"
scan_wav=$(measure "$bin" scan "$wav" -o "$nights_out/wav")
row "WAV: crampscan scan" "$scan_wav"
# The same without the ECG-robust transient rejection (its cost, for users
# whose recordings carry no heartbeat).
printf '[detector]\ntransient_rejection = false\n' > "$work/no-rejection.toml"
scan_plain=$(measure "$bin" scan "$wav" -o "$nights_out/wav-plain" --config "$work/no-rejection.toml")
row "WAV: crampscan scan, transient_rejection = false" "$scan_plain"
cat_csv=$(measure bash -c "cat $csv/night01_emg.csv $csv/night01_acc.csv > /dev/null")
row "CSV: cat to /dev/null" "$cat_csv"
floor_csv=$(measure bash -c "$floor csv $csv/night01_emg.csv && $floor csv $csv/night01_acc.csv")
row "CSV: csv crate + fast-float2 parse of every number" "$floor_csv"
scan_csv=$(measure "$bin" scan "$csv" -o "$nights_out/csv")
row "CSV: crampscan scan" "$scan_csv"
venv=/tmp/crampscan-bench-venv
if [ $scipy -eq 1 ] || [ $psg -eq 1 ]; then
    if [ ! -x $venv/bin/python ] || ! $venv/bin/python -c "import scipy, soundfile, pyedflib" 2>/dev/null; then
        python3 -m venv $venv
        $venv/bin/pip install --quiet numpy scipy soundfile pyedflib
    fi
fi
if [ $scipy -eq 1 ]; then
    scipy_wav=$(measure $venv/bin/python scripts/bench_scipy.py "$wav/night01_emg.wav")
    row "WAV: scipy reference (EMG only)" "$scipy_wav"
fi
if [ $psg -eq 1 ]; then
    psgdir=$work/psg$hours
    if [ ! -f "$psgdir/.done" ]; then
        rm -rf "$psgdir" && mkdir -p "$psgdir"
        echo "generating $psgdir ..." >&2
        $venv/bin/python scripts/make_psg_edf.py "$psgdir/psg01.edf" "$hours"
        touch "$psgdir/.done"
    fi
    cat_psg=$(measure bash -c "cat $psgdir/psg01.edf > /dev/null")
    row "PSG EDF (22 signals): cat to /dev/null" "$cat_psg"
    scan_psg=$(measure "$bin" scan "$psgdir/psg01.edf" -o "$nights_out/psg")
    row "PSG EDF: crampscan scan (2 legs at 512 Hz)" "$scan_psg"
    pyedf_psg=$(measure $venv/bin/python -c "
import sys, pyedflib
f = pyedflib.EdfReader(sys.argv[1])
labels = f.getSignalLabels()
print(sum(float(f.readSignal(labels.index(l)).sum()) for l in ('LAT', 'RAT')))
" "$psgdir/psg01.edf")
    row "PSG EDF: pyedflib reading the 2 leg channels" "$pyedf_psg"
fi
if [ $long -eq 1 ]; then
    gen "$work/wav48" --hours 48 --format wav --seed 2 --cramps-per-h 0.5
    scan48=$(measure "$bin" scan "$work/wav48" -o "$nights_out/wav48")
    row "WAV 48 h: crampscan scan" "$scan48"
fi
gen "$work/batch" --nights 8 --hours 1 --format wav --seed 3
t1=$(measure "$bin" scan "$work/batch" -o "$nights_out/b1" --threads 1)
row "batch of 8 one-hour WAV nights, --threads 1" "$t1"
t2=$(measure "$bin" scan "$work/batch" -o "$nights_out/b2" --threads 2)
row "batch of 8 one-hour WAV nights, --threads 2" "$t2"

first() { echo "$1" | cut -d' ' -f"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "crampscan WAV / minimal WAV read (target <= 3):    $(ratio "$(first "$scan_wav" 1)" "$(first "$floor_wav" 1)")"
echo "crampscan WAV / cat (I/O floor):                   $(ratio "$(first "$scan_wav" 1)" "$(first "$cat_wav" 1)")"
echo "crampscan WAV / read + cascade + FFT only:         $(ratio "$(first "$scan_wav" 1)" "$(first "$stages_wav" 1)")"
echo "read + cascade + FFT only / minimal WAV read:      $(ratio "$(first "$stages_wav" 1)" "$(first "$floor_wav" 1)")"
echo "crampscan CSV / fastest CSV parse (target <= 2):   $(ratio "$(first "$scan_csv" 1)" "$(first "$floor_csv" 1)")"
[ $scipy -eq 1 ] && echo "scipy / crampscan WAV (target >= 20):              $(ratio "$(first "$scipy_wav" 1)" "$(first "$scan_wav" 1)")"
[ $scipy -eq 1 ] && echo "scipy / read + cascade + FFT only:                 $(ratio "$(first "$scipy_wav" 1)" "$(first "$stages_wav" 1)")"
echo "peak RSS, ${hours} h WAV (target < 64 MB):             $(first "$scan_wav" 3) MB"
[ $long -eq 1 ] && echo "peak RSS, 48 h WAV (target < 64 MB):               $(first "$scan48" 3) MB"
[ $long -eq 1 ] && echo "peak RSS 48 h / ${hours} h:                              $(ratio "$(first "$scan48" 3)" "$(first "$scan_wav" 3)")"
echo "throughput 2 threads / 1 thread (target >= 1.9):   $(ratio "$(first "$t1" 1)" "$(first "$t2" 1)")"
if [ $psg -eq 1 ]; then
    echo "crampscan PSG EDF / cat (target <= 3):             $(ratio "$(first "$scan_psg" 1)" "$(first "$cat_psg" 1)")"
    echo "pyedflib legs / crampscan PSG EDF (target > 1):    $(ratio "$(first "$pyedf_psg" 1)" "$(first "$scan_psg" 1)")"
fi
