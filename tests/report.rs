//! Figures and the HTML report: the overview's content checked against the
//! detected episodes, default outputs unchanged without --plots, `report`
//! rebuilding from saved results (of one run, or of merged shards), and the
//! pages rendered in headless Chromium.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{crampscan, read_table, sim, stderr};
use crampscan::report::figures::{
    self, kind_rgb, Overview, EPISODE_OPACITY, OVERVIEW_WIDTH_PX, RIGHT_MARGIN_PX, Y_LABEL_AREA_PX,
};
use crampscan::report::{load_nights, traces};
use crampscan::simulate::Format;

/// Attributes of every `<rect .../>` in an SVG.
fn rects(svg: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for part in svg.split("<rect ").skip(1) {
        let body = &part[..part.find("/>").expect("rect closes")];
        let mut attrs = BTreeMap::new();
        for kv in body.split("\" ") {
            if let Some((k, v)) = kv.split_once("=\"") {
                attrs.insert(k.trim().to_string(), v.trim_end_matches('"').to_string());
            }
        }
        out.push(attrs);
    }
    out
}

fn hex(c: plotters::style::RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

fn scan_plots(dir: &Path, extra: &[&str]) -> (PathBuf, PathBuf) {
    let sims = dir.join("sim");
    sim(&sims, 1, 0.25, Format::Wav, 31, "p");
    let out = dir.join("out");
    let mut args = vec!["scan", sims.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = crampscan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    (sims, out)
}

#[test]
fn overview_shades_each_episode_at_its_time_and_labels_axes_with_units() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scan_plots(dir.path(), &["--plots"]);
    let nights = load_nights(&out).unwrap();
    assert_eq!(nights.len(), 1);
    let n = &nights[0].night;
    assert!(
        n.summary.n_cramps >= 1 && n.summary.n_lm >= 5,
        "{:?}",
        n.summary
    );
    let tr = traces::read(&traces::path(&out, &n.night), &n.night).unwrap();
    let svg_path = out.join(format!("report/figures/{}/overview.svg", n.night));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    // Redraw from the saved features: same bytes, and the axis mapping.
    let ov = Overview {
        night: &n.night,
        start_time: n.start_time,
        duration_s: n.duration_s,
        traces: &tr,
        episodes: &n.episodes,
        movements: &n.leg_movements.movements,
        thresholds: figures::Thresholds {
            relative: false,
            onset: 8.0,
            offset: 2.0,
        },
    };
    let (again, layout) = figures::overview_svg(&ov).unwrap();
    assert_eq!(again, svg, "the overview is not reproducible");
    // The plot area spans the figure less the y label area and the margins.
    assert_eq!(
        layout.plot_x_px,
        (
            (figures::LEFT_MARGIN_PX + Y_LABEL_AREA_PX) as i32,
            (OVERVIEW_WIDTH_PX - RIGHT_MARGIN_PX) as i32
        )
    );
    assert_eq!(layout.x_range_s, (0.0, n.duration_s));
    let opacity = EPISODE_OPACITY.to_string();
    let shaded: Vec<_> = rects(&svg)
        .into_iter()
        .filter(|r| r.get("opacity") == Some(&opacity))
        .collect();
    assert_eq!(
        shaded.len(),
        n.episodes.len(),
        "one shaded region per episode"
    );
    for (channel, (y0, y1)) in &layout.emg_panels {
        let eps: Vec<_> = n
            .episodes
            .iter()
            .filter(|e| &e.channel == channel)
            .collect();
        let in_panel: Vec<_> = shaded
            .iter()
            .filter(|r| {
                let y: i32 = r["y"].parse().unwrap();
                y >= *y0 && y < *y1
            })
            .collect();
        assert_eq!(in_panel.len(), eps.len(), "{channel}");
        for e in eps {
            // Seconds to pixels by hand: the first plot column is 0 s, the
            // last one the end of the night.
            let (x0, x1) = (layout.plot_x_px.0, layout.plot_x_px.1 - 1);
            let want = x0 as f64 + (x1 - x0) as f64 * e.start_s / n.duration_s;
            let hit = in_panel.iter().find(|r| {
                let x: f64 = r["x"].parse().unwrap();
                (x - want).abs() <= 1.0
            });
            let r = hit.unwrap_or_else(|| panic!("no rect at x≈{want:.1} for {e:?}"));
            assert_eq!(r["fill"], hex(kind_rgb(e.kind)), "{e:?}");
            let w: f64 = r["width"].parse().unwrap();
            let want_w = (x1 - x0) as f64 * e.duration_s() / n.duration_s;
            assert!(
                w >= 1.0 && (w - want_w.max(1.0)).abs() <= 2.0,
                "width {w} for {e:?}"
            );
        }
    }
    for label in [
        "band RMS (µV, log)",
        "ENMO (g)",
        "clock time (hh:mm)",
        "emg_left_uv",
        "emg_right_uv",
    ] {
        assert!(svg.contains(label), "missing axis label {label}");
    }
    // One close-up per cramp (the default), with its panels' units and
    // the spectrogram embedded as an image.
    let cramps: Vec<usize> = n
        .episodes
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind.as_str() == "cramp")
        .map(|(i, _)| i + 1)
        .collect();
    let figs = out.join(format!("report/figures/{}", n.night));
    let closeups: Vec<String> = std::fs::read_dir(&figs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("episode-") && f.ends_with(".svg"))
        .collect();
    assert_eq!(closeups.len(), cramps.len());
    for i in cramps {
        let c = std::fs::read_to_string(figs.join(format!("episode-{i:03}.svg"))).unwrap();
        for label in [
            "EMG (µV)",
            "frequency (Hz)",
            "acceleration (g)",
            "data:image/png;base64,",
        ] {
            assert!(c.contains(label), "close-up {i} lacks {label}");
        }
        let png = std::fs::read(figs.join(format!("episode-{i:03}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}

#[test]
fn default_outputs_are_unchanged_by_plots_and_report_rebuilds_them() {
    let dir = tempfile::tempdir().unwrap();
    let (sims, out) = scan_plots(dir.path(), &["--plots", "--threads", "2"]);
    let plain = dir.path().join("plain");
    let o = crampscan(&[
        "scan",
        sims.to_str().unwrap(),
        "-o",
        plain.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "episodes.csv",
        "nights.csv",
        "errors.csv",
        "nights/p01.json",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(plain.join(f)).unwrap(),
            "{f} differs with --plots"
        );
    }
    assert!(!plain.join("report").exists());
    assert!(!plain.join("nights/p01.traces.bin").exists());
    // `report` from the saved results, on one thread, gives the same pages
    // and figures as scan --plots did on two.
    let before = std::fs::read(out.join("report/figures/p01/overview.svg")).unwrap();
    let index = std::fs::read(out.join("report/index.html")).unwrap();
    std::fs::remove_dir_all(out.join("report")).unwrap();
    let o = crampscan(&["report", out.to_str().unwrap(), "--threads", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(out.join("report/figures/p01/overview.svg")).unwrap(),
        before
    );
    assert_eq!(std::fs::read(out.join("report/index.html")).unwrap(), index);
    // Without traces the night page says how to get the overview.
    let o = crampscan(&["report", plain.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(plain.join("report/p01.html")).unwrap();
    assert!(page.contains("--plots"), "{page}");
    // Another night's features under this night's name cost the night its
    // overview, with a note naming the file, not the report.
    let tpath = traces::path(&out, "p01");
    let tr = traces::read(&tpath, "p01").unwrap();
    std::fs::write(&tpath, traces::encode("p02", &tr)).unwrap();
    let o = crampscan(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(out.join("report/p01.html")).unwrap();
    assert!(page.contains("No overview"), "{page}");
    assert!(page.contains("p01.traces.bin"), "{page}");
    assert!(!page.contains("overview.svg"), "{page}");
    // A bad kind is a usage error naming the kinds.
    let o = crampscan(&["report", out.to_str().unwrap(), "--closeups", "spasm"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("expected cramp, lm, sustained, movement or all"));
}

fn crampscan_in(cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_crampscan"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run crampscan")
}

fn closeup_svgs(out: &Path) -> usize {
    std::fs::read_dir(out.join("report/figures/p01"))
        .map(|d| {
            d.filter(|e| {
                let n = e.as_ref().unwrap().file_name();
                let n = n.to_string_lossy();
                n.starts_with("episode-") && n.ends_with(".svg")
            })
            .count()
        })
        .unwrap_or(0)
}

#[test]
fn report_finds_recordings_relative_to_the_scans_folder_and_fails_loudly_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    sim(&work.join("sim"), 1, 0.25, Format::Wav, 31, "p");
    // The scan runs in `work` with relative paths, so the night document
    // records `sim/...`; the report runs from elsewhere.
    let o = crampscan_in(&work, &["scan", "sim", "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = work.join("out");
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    let recorded = run["working_dir"].as_str().unwrap();
    assert_eq!(
        Path::new(recorded).canonicalize().unwrap(),
        work.canonicalize().unwrap()
    );
    let out_s = out.to_str().unwrap();
    let o = crampscan_in(dir.path(), &["report", out_s, "--closeups", "all"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let n = closeup_svgs(&out);
    assert!(n > 0, "no close-ups drawn from {recorded}");
    // The recordings move: the report is still written, says why on the
    // page, names the night and the way out on stderr, and exits 1.
    std::fs::remove_dir_all(out.join("report")).unwrap();
    let moved = dir.path().join("moved");
    std::fs::create_dir(&moved).unwrap();
    std::fs::rename(work.join("sim"), moved.join("sim")).unwrap();
    let o = crampscan_in(dir.path(), &["report", out_s, "--closeups", "all"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("night p01: no close-ups"), "{err}");
    assert!(err.contains("recording sim/p01_"), "{err}");
    assert!(err.contains("not found under"), "{err}");
    assert!(err.contains("--recordings"), "{err}");
    assert!(out.join("report/index.html").is_file());
    let page = std::fs::read_to_string(out.join("report/p01.html")).unwrap();
    assert!(page.contains("No close-ups"), "{page}");
    assert_eq!(closeup_svgs(&out), 0);
    // Given the new folder, it finds them again.
    let moved_s = moved.to_str().unwrap();
    let o = crampscan_in(
        dir.path(),
        &[
            "report",
            out_s,
            "--closeups",
            "all",
            "--recordings",
            moved_s,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(closeup_svgs(&out), n);
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

/// Lines of `index.html` that differ between a single run and a merge of
/// its shards: the run's own provenance (a merge records 0 threads and the
/// shards' earliest start and latest end).
const RUN_ONLY_LINES: &[&str] = &["<dt>threads</dt>", "<dt>started</dt>", "<dt>finished</dt>"];

#[test]
fn report_of_merged_plot_shards_equals_the_single_run_report() {
    let dir = tempfile::tempdir().unwrap();
    let sims = dir.path().join("sim");
    sim(&sims, 2, 0.25, Format::Wav, 31, "p");
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let o = crampscan(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    let inp = sims.to_str().unwrap();
    run(&["scan", inp, "-o", &p("single"), "--plots"]);
    for i in 1..=2 {
        let shard = format!("{i}/2");
        run(&[
            "scan",
            inp,
            "-o",
            &p(&format!("s{i}")),
            "--plots",
            "--shard",
            &shard,
        ]);
    }
    run(&["merge", &p("s2"), &p("s1"), "-o", &p("merged")]);
    run(&["report", &p("merged")]);

    let single = dir.path().join("single");
    let merged = dir.path().join("merged");
    let ids: Vec<String> = read_table(&single.join("nights.csv"))
        .into_iter()
        .map(|r| r["night"].clone())
        .collect();
    assert_eq!(ids, ["p01", "p02"]);
    for id in &ids {
        let rel = format!("nights/{id}.traces.bin");
        assert_eq!(
            std::fs::read(merged.join(&rel)).unwrap(),
            std::fs::read(single.join(&rel)).unwrap(),
            "{rel}"
        );
        for f in ["overview.svg", "overview.png"] {
            assert!(
                merged.join(format!("report/figures/{id}/{f}")).exists(),
                "{id}: no {f} in the merged report"
            );
        }
    }
    // Figures and night pages: the same bytes. The index differs only in
    // the run's provenance lines.
    let want = tree(&single.join("report"));
    let got = tree(&merged.join("report"));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (f, bytes) in &want {
        if f == "index.html" {
            continue;
        }
        assert!(bytes == &got[f], "{f} differs in the merged report");
    }
    let lines = |b: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(b)
            .lines()
            .filter(|l| !RUN_ONLY_LINES.iter().any(|p| l.starts_with(p)))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(lines(&want["index.html"]), lines(&got["index.html"]));
    // A merged run has no thread count of its own: its shards are named.
    let index = String::from_utf8_lossy(&got["index.html"]);
    assert!(
        index.contains("<dt>threads</dt><dd>per shard (merged from 2 shards)</dd>"),
        "{index}"
    );

    // A damaged trace file in a shard stops the merge, naming it.
    let id2 = read_table(&dir.path().join("s2/nights.csv"))[0]["night"].clone();
    let bad = dir.path().join(format!("s2/nights/{id2}.traces.bin"));
    let full = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &full[..full.len() - 2]).unwrap();
    let o = crampscan(&["merge", &p("s1"), &p("s2"), "-o", &p("merged_bad")]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(bad.to_str().unwrap()) && err.contains("the file ends first"),
        "{err}"
    );
    // A shard without the file: merging again into the same folder leaves
    // no stale trace file behind, and the report says why there is no
    // overview.
    std::fs::remove_file(&bad).unwrap();
    run(&["merge", &p("s1"), &p("s2"), "-o", &p("merged")]);
    assert!(!merged.join(format!("nights/{id2}.traces.bin")).exists());
    assert_eq!(
        ids.iter()
            .filter(|id| merged.join(format!("nights/{id}.traces.bin")).exists())
            .count(),
        1
    );
    std::fs::remove_dir_all(merged.join("report")).unwrap();
    run(&["report", &p("merged")]);
    assert!(!merged
        .join(format!("report/figures/{id2}/overview.svg"))
        .exists());
    let page = std::fs::read_to_string(merged.join(format!("report/{id2}.html"))).unwrap();
    assert!(
        page.contains("No overview") && page.contains("--plots"),
        "{page}"
    );
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs headless Chromium on a file URL with `extra` flags; returns stdout
/// and stderr.
fn chromium(url: &str, profile: &Path, extra: &[&str]) -> (String, String) {
    let o = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--allow-file-access-from-files",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Share of pixels in a PNG that are not near-white.
fn ink_fraction(png_path: &Path) -> f64 {
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let n = px.len() / ch;
    let ink = px
        .chunks(ch)
        .filter(|p| p[..3.min(ch)].iter().any(|&v| v < 235))
        .count();
    ink as f64 / n as f64
}

/// Page health is read from the DOM after load: the page's own script sets
/// `data-report-status` to `ok` only when no resource failed and no script
/// error happened (a page whose script did not run has no attribute).
/// Chromium's log is checked as well for console errors and failed loads.
#[test]
fn index_and_night_pages_render_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is absent (apt-get install chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scan_plots(dir.path(), &["--plots"]);
    let report = out.join("report").canonicalize().unwrap();
    for page in ["index.html", "p01.html"] {
        let url = format!("file://{}", report.join(page).display());
        let profile = dir.path().join(format!("profile-{page}"));
        let (dom, log) = chromium(&url, &profile, &["--dump-dom"]);
        assert!(
            dom.contains("data-report-status=\"ok\""),
            "{page}: status not ok\nDOM head: {}\nlog: {log}",
            &dom[..dom.len().min(400)]
        );
        for bad in [
            "Uncaught",
            "ERR_FILE_NOT_FOUND",
            "net::ERR",
            "Failed to load",
        ] {
            assert!(
                !log.contains(bad),
                "{page}: {bad} in Chromium's log:\n{log}"
            );
        }
        let shot = dir.path().join(format!("{page}.png"));
        let (_, log) = chromium(
            &url,
            &profile,
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=1280,1000",
                "--hide-scrollbars",
            ],
        );
        assert!(shot.exists(), "{page}: no screenshot\n{log}");
        let ink = ink_fraction(&shot);
        // A table page has text on a white ground; the night page shows the
        // overview figure near the top. Blank pages have no ink at all.
        assert!(ink > 0.01, "{page}: screenshot is blank ({ink:.4} ink)");
    }
    // Deliberately broken page: the check must notice a missing figure.
    let broken = report.join("broken.html");
    let page = std::fs::read_to_string(report.join("p01.html"))
        .unwrap()
        .replace("overview.svg", "missing.svg");
    std::fs::write(&broken, page).unwrap();
    let (dom, _) = chromium(
        &format!("file://{}", broken.display()),
        &dir.path().join("profile-broken"),
        &["--dump-dom"],
    );
    assert!(
        dom.contains("data-report-status=\"errors\""),
        "{}",
        &dom[..dom.len().min(400)]
    );
    assert!(dom.contains("failed to load"));
}

/// Every `<text ...>content</text>` of an SVG: its attributes and content.
fn texts(svg: &str) -> Vec<(BTreeMap<String, String>, String)> {
    let mut out = Vec::new();
    for part in svg.split("<text ").skip(1) {
        let open = part.find('>').expect("text tag closes");
        let mut attrs = BTreeMap::new();
        for kv in part[..open].split("\" ") {
            if let Some((k, v)) = kv.split_once("=\"") {
                attrs.insert(k.trim().to_string(), v.trim_end_matches('"').to_string());
            }
        }
        let body = &part[open + 1..part.find("</text>").expect("text closes")];
        out.push((attrs, body.trim().to_string()));
    }
    out
}

fn num(m: &BTreeMap<String, String>, k: &str) -> f64 {
    m[k].parse().unwrap_or_else(|_| panic!("{k} in {m:?}"))
}

#[test]
fn overview_legend_has_one_entry_per_shaded_kind_and_plm_strips_sit_on_their_leg() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scan_plots(dir.path(), &["--plots"]);
    let n = &load_nights(&out).unwrap()[0].night;
    let tr = traces::read(&traces::path(&out, &n.night), &n.night).unwrap();
    let ov = Overview {
        night: &n.night,
        start_time: n.start_time,
        duration_s: n.duration_s,
        traces: &tr,
        episodes: &n.episodes,
        movements: &n.leg_movements.movements,
        thresholds: figures::Thresholds {
            relative: false,
            onset: 8.0,
            offset: 2.0,
        },
    };
    let (svg, layout) = figures::overview_svg(&ov).unwrap();
    // Legend: the text items of the header strip, after the four lines.
    let header: Vec<String> = texts(&svg)
        .into_iter()
        .filter(|(a, _)| num(a, "y") > 20.0 && num(a, "y") < figures::HEADER_HEIGHT_PX as f64)
        .map(|(_, t)| t)
        .collect();
    // Expected by hand: the kinds among the night's episodes, in the
    // order cramp, LM, sustained, body movement, then the PLM strip.
    let mut want = vec![
        "band RMS (min-max per pixel)",
        "resting baseline",
        "onset threshold",
        "offset threshold",
    ];
    let kinds: Vec<&str> = n.episodes.iter().map(|e| e.kind.as_str()).collect();
    for (k, label) in [
        ("cramp", "cramp"),
        ("lm", "LM"),
        ("sustained", "sustained"),
        ("movement", "body movement"),
    ] {
        if kinds.contains(&k) {
            want.push(label);
        }
    }
    let periodic: Vec<_> = n
        .leg_movements
        .movements
        .iter()
        .filter(|m| m.periodic)
        .collect();
    assert!(periodic.len() >= 5, "the night has a PLM series");
    want.push(figures::PLM_LEGEND);
    assert_eq!(header, want);
    // Every shade drawn in a panel has its legend swatch (opaque, 14 px).
    let all = rects(&svg);
    let swatches: Vec<&String> = all
        .iter()
        .filter(|r| r["width"] == "14" && num(r, "y") < figures::HEADER_HEIGHT_PX as f64)
        .map(|r| &r["fill"])
        .collect();
    let shades: std::collections::BTreeSet<&String> = all
        .iter()
        .filter(|r| num(r, "y") >= figures::HEADER_HEIGHT_PX as f64)
        .filter(|r| r.get("opacity").map(String::as_str) == Some(&EPISODE_OPACITY.to_string()))
        .map(|r| &r["fill"])
        .collect();
    assert!(shades.len() >= 2, "{shades:?}");
    for s in shades {
        assert!(swatches.contains(&s), "shade {s} has no legend entry");
    }
    // PLM strips: each lies in the panel of a channel with an episode at
    // its time; per panel, as many as the periodic movements overlapping
    // that channel's episodes (counted here by hand).
    let plm = hex(figures::PLM_RGB);
    let strips: Vec<_> = all
        .iter()
        .filter(|r| r["fill"] == plm && num(r, "y") >= figures::HEADER_HEIGHT_PX as f64)
        .collect();
    let mut per_panel = vec![0usize; layout.emg_panels.len()];
    for r in &strips {
        let (x, y) = (num(r, "x") as i32, num(r, "y") as i32);
        let k = layout
            .emg_panels
            .iter()
            .position(|(_, (y0, y1))| y >= *y0 && y < *y1)
            .unwrap_or_else(|| panic!("strip at y {y} outside every panel"));
        per_panel[k] += 1;
        let ch = &layout.emg_panels[k].0;
        assert!(
            n.episodes.iter().any(|e| &e.channel == ch
                && layout.x_px(e.start_s) <= x + 1
                && layout.x_px(e.end_s) >= x - 1),
            "strip at x {x} on {ch} has no episode of {ch} under it"
        );
    }
    for (k, (ch, _)) in layout.emg_panels.iter().enumerate() {
        let want = periodic
            .iter()
            .filter(|m| {
                n.episodes
                    .iter()
                    .any(|e| &e.channel == ch && e.start_s < m.end_s && e.end_s > m.start_s)
            })
            .count();
        assert_eq!(per_panel[k], want, "{ch}");
        // Unilateral series: no panel carries every PLM (as it did when
        // the strip was drawn on each panel).
        assert!(want < periodic.len(), "{ch}: {want} of {}", periodic.len());
    }
    assert_eq!(per_panel.iter().sum::<usize>(), periodic.len());
}

#[test]
fn closeup_has_a_colour_bar_spanning_its_colour_scale_and_png_text_has_no_clipped_titles() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scan_plots(dir.path(), &["--plots", "--closeups", "cramp"]);
    let n = &load_nights(&out).unwrap()[0].night;
    let figs = out.join(format!("report/figures/{}", n.night));
    let mut svgs: Vec<PathBuf> = std::fs::read_dir(&figs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".svg") && !p.ends_with("overview.svg"))
        .collect();
    svgs.sort();
    let svg = std::fs::read_to_string(&svgs[0]).unwrap();
    let closeup_png = svgs[0].with_extension("png");
    let t = texts(&svg);
    // The colour scale's range, from the spectrogram's caption.
    let cap = &t
        .iter()
        .find(|(_, s)| s.starts_with("spectrogram, dB re 1 µV²/Hz, "))
        .expect("spectrogram caption")
        .1;
    let range: Vec<f64> = cap
        .trim_start_matches("spectrogram, dB re 1 µV²/Hz, ")
        .trim_end_matches(" dB")
        .split(" to ")
        .map(|v| v.parse().unwrap())
        .collect();
    let (lo, hi) = (range[0], range[1]);
    assert!(hi - lo >= 20.0, "{cap}");
    let bar_x = (figures::CLOSEUP_WIDTH_PX - figures::CLOSEUP_RIGHT_MARGIN_PX) as f64;
    let title = t.iter().find(|(_, s)| s == "dB").expect("colour bar title");
    assert!(num(&title.0, "x") > bar_x);
    // Tick labels right of the plot area: multiples of 10 dB (a span of
    // 50 dB at most 6 ticks), every one in [lo, hi], none missing.
    let ticks: Vec<(f64, f64)> = t
        .iter()
        .filter(|(a, _)| num(a, "x") > bar_x)
        .filter_map(|(a, s)| s.parse::<f64>().ok().map(|v| (v, num(a, "y"))))
        .collect();
    let want: Vec<f64> = ((lo / 10.0).ceil() as i64..=(hi / 10.0).floor() as i64)
        .map(|k| k as f64 * 10.0)
        .collect();
    assert_eq!(ticks.iter().map(|t| t.0).collect::<Vec<_>>(), want);
    assert_eq!(figures::colour_bar_ticks((lo, hi)), want);
    // Higher dB higher up, evenly: 10 dB the same number of px each.
    let dy: Vec<f64> = ticks.windows(2).map(|w| w[0].1 - w[1].1).collect();
    assert!(dy.iter().all(|d| *d > 10.0), "{dy:?}");
    assert!(dy.iter().all(|d| (d - dy[0]).abs() <= 1.0), "{dy:?}");
    // The bar's bands: the low end of viridis at the bottom, the high end
    // at the top.
    let bands: Vec<_> = rects(&svg)
        .into_iter()
        .filter(|r| num(r, "x") > bar_x && r["fill"] != "none")
        .collect();
    assert!(bands.len() > 40, "{}", bands.len());
    let first = bands.iter().min_by_key(|r| num(r, "y") as i64).unwrap();
    let last = bands.iter().max_by_key(|r| num(r, "y") as i64).unwrap();
    let v = |c: [u8; 3]| format!("#{:02X}{:02X}{:02X}", c[0], c[1], c[2]);
    let near = |a: &str, b: [u8; 3]| {
        let p = |s: &str, i: usize| i32::from_str_radix(&s[1 + 2 * i..3 + 2 * i], 16).unwrap();
        (0..3).all(|i| (p(a, i) - b[i] as i32).abs() <= 6)
    };
    let (top, bottom) = (
        crampscan::report::closeup::viridis(1.0),
        crampscan::report::closeup::viridis(0.0),
    );
    assert!(near(&first["fill"], top), "{} vs {}", first["fill"], v(top));
    assert!(
        near(&last["fill"], bottom),
        "{} vs {}",
        last["fill"],
        v(bottom)
    );
    // PNG: the left margin stays blank, so rotated y-axis titles hang
    // from its edge as in the SVG (their tops rose about 2 px above the
    // text box and were lost at the figure's edge: `requency (Hz)`), and
    // the titles are inked (between the margin and the tick labels).
    for path in [closeup_png, figs.join("overview.png")] {
        let name = path.display();
        let (px, w, h) = rgb_pixels(&path);
        let ink = |x: usize| (0..h).filter(|&y| px[(y * w + x) * 3] < 128).count();
        let m = figures::LEFT_MARGIN_PX as usize;
        let margin: Vec<usize> = (0..m - 1).map(ink).collect();
        assert!(margin.iter().all(|&k| k == 0), "{name}: margin {margin:?}");
        let title_ink: usize = (m..m + 20).map(ink).sum();
        assert!(title_ink > 100, "{name}: y-axis titles {title_ink}");
    }
}

/// RGB pixels, width and height of a PNG.
fn rgb_pixels(path: &Path) -> (Vec<u8>, usize, usize) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (buf, info.width as usize, info.height as usize)
}
