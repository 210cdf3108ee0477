#!/usr/bin/env bash
# Issue 15's long check without cargo test: every simulated family (20 nights
# of 0.5 h, psg preset, 4 cramps per hour, WAV, seed 2026 + the family's index)
# at 200, 256 and 500 Hz, scanned with and without the accelerometer file,
# mains auto; prints the Markdown table (family x rate x accelerometer) that
# tests/families.rs prints, from each run's families.csv.
# Usage: scripts/families.sh [WORKDIR] [NIGHTS]   (default /tmp/crampscan-families 20)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/crampscan-families}"
nights="${2:-20}"
families="psg bm-steady bm-bursty bm-ramped bm-partial cramp-stretch posture hum-switch mixed"
rm -rf "$work"
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/crampscan
for fs in 200 256 500; do
    i=0
    for fam in $families; do
        "$bin" simulate -o "$work/$fs/nights" --family "$fam" --nights "$nights" --hours 0.5 \
            --cramps-per-h 4 --format wav --emg-fs "$fs" --seed $((2026 + i)) --prefix "${fam}_" 2>/dev/null
        i=$((i + 1))
    done
    mkdir -p "$work/$fs/nights_no_accel"
    for f in "$work/$fs/nights"/*; do
        case "$(basename "$f")" in *_acc*) ;; *) ln "$f" "$work/$fs/nights_no_accel/" ;; esac
    done
    for cond in yes no; do
        src="$work/$fs/nights"; out="$work/$fs/out"
        if [ "$cond" = no ]; then src="$work/$fs/nights_no_accel"; out="$work/$fs/out_no_accel"; fi
        "$bin" scan "$src" -o "$out" >/dev/null 2>&1
        "$bin" evaluate --truth "$src" --pred "$out" >/dev/null
        echo "$fs,$cond,$out/families.csv"
    done
done > "$work/cells.txt"
echo "| family | EMG Hz | accelerometer | cramp F1 | LM F1 | movement F1 | body movements not cramp |"
echo "|---|---|---|---|---|---|---|"
while IFS=, read -r fs cond csv; do
    awk -F, -v fs="$fs" -v acc="$cond" 'NR > 1 && $1 != "worst" {
        if (!($1 in seen)) { order[++n] = $1; seen[$1] = 1 }
        if ($4 > 0) f1[$1, $3] = sprintf("%.3f", $9)
        share[$1] = ($12 == "") ? "–" : sprintf("%.1f %%", 100 * $12)
    } END {
        for (i = 1; i <= n; i++) { f = order[i]
            c = ((f, "cramp") in f1) ? f1[f, "cramp"] : "–"
            l = ((f, "lm") in f1) ? f1[f, "lm"] : "–"
            m = ((f, "movement") in f1) ? f1[f, "movement"] : "–"
            printf "| %s | %s | %s | %s | %s | %s | %s |\n", f, fs, acc, c, l, m, share[f] }
    }' "$csv"
done < "$work/cells.txt"
while IFS=, read -r fs cond csv; do
    awk -F, -v fs="$fs" -v acc="$cond" '$1 == "worst" {
        if ($3 == "body_movement_as_cramp") w[$3] = sprintf("%.1f %% (%s)", 100 * $12, $13)
        else w[$3] = sprintf("%.3f (%s)", $9, $13)
    } END {
        split("cramp lm movement body_movement_as_cramp", k, " ")
        for (i = 1; i <= 4; i++) if (!(k[i] in w)) w[k[i]] = "–"
        printf "| **worst** | %s | %s | %s | %s | %s | %s |\n", fs, acc, w["cramp"], w["lm"], w["movement"], w["body_movement_as_cramp"]
    }' "$csv"
done < "$work/cells.txt"
