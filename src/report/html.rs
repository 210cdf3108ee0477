//! The static HTML pages of the report: `index.html` (nights table,
//! failures, provenance) and one page per night (summary, overview,
//! episode list, close-ups). Self-contained: inline CSS and JS, figures by
//! relative path, nothing from the network, so the folder opens from the
//! file system and can be copied as a whole.
//!
//! Every page records its own health: a capturing `error` listener notes
//! resources that fail to load and script errors, and on `load` the page
//! sets `data-report-status="ok"` (or `"errors"`, showing the list) on
//! `<html>`. The browser test reads that attribute.

use std::fmt::Write;

use super::NightFigures;
use crate::export::cells::clock;
use crate::summary::{NightDocument, NightError};

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:1.5rem auto;max-width:1440px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0}
td.t,th.t{text-align:left}
table.sortable th{cursor:pointer}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
tr:hover td{background:#fafafa}
img.fig{max-width:100%;height:auto;border:1px solid #eee}
.alert{background:#fdecea;border:1px solid #d62728;padding:.5rem}
.note{color:#8a5a00}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
pre{background:#f7f7f7;padding:.6rem;overflow:auto;font-size:.8rem}
.k-cramp{color:#d62728;font-weight:600}.k-lm{color:#1f77b4}.k-sustained{color:#c55f00}
"#;

/// Records failed loads and script errors; marks the page's status on load.
const STATUS_JS: &str = r#"(function(){var errs=[];
window.addEventListener('error',function(e){var t=e.target;
if(t&&t!==window&&(t.src||t.href)){errs.push('failed to load '+(t.src||t.href));}
else{errs.push('script error: '+(e.message||'unknown'));}},true);
window.addEventListener('load',function(){
document.documentElement.setAttribute('data-report-status',errs.length?'errors':'ok');
if(errs.length){var p=document.getElementById('load-errors');p.textContent=errs.join('; ');p.hidden=false;}});})();"#;

/// Click a column header to sort; numbers sort as numbers.
const SORT_JS: &str = r#"document.querySelectorAll('table.sortable').forEach(function(table){
var heads=table.querySelectorAll('th');
heads.forEach(function(th,col){th.addEventListener('click',function(){
var tb=table.tBodies[0],rows=Array.prototype.slice.call(tb.rows);
var asc=th.getAttribute('aria-sort')!=='ascending';
heads.forEach(function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var num=th.getAttribute('data-type')==='num';
function key(r){var c=r.cells[col];var v=c.getAttribute('data-v');if(v===null){v=c.textContent;}
if(num){var x=parseFloat(v);return isNaN(x)?-Infinity:x;}return v;}
rows.sort(function(a,b){var x=key(a),y=key(b);var r=num?(x<y?-1:x>y?1:0):String(x).localeCompare(String(y));return asc?r:-r;});
rows.forEach(function(r){tb.appendChild(r);});});});});"#;

/// Text made safe for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A relative path made safe for `href`/`src`: every byte outside the
/// unreserved set (and `/`) percent-encoded, so night ids with `#`, `?`,
/// `%` or spaces still link to their files.
pub fn url_path(p: &str) -> String {
    let mut o = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// File name of a night's page inside `OUT/report/`: `<night>.html`, but
/// `_<night>.html` for a night named `index` (any case, for file systems
/// that ignore case) or starting with `_`, so that no night's page is
/// `index.html` and no two nights share a page.
pub fn night_file(night: &str) -> String {
    if night.eq_ignore_ascii_case("index") || night.starts_with('_') {
        format!("_{night}.html")
    } else {
        format!("{night}.html")
    }
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n<script>{STATUS_JS}</script>\n</head>\n<body>\n<p id=\"load-errors\" class=\"alert\" hidden></p>\n",
        esc(title)
    )
}

fn tail() -> String {
    format!("<script>{SORT_JS}</script>\n</body>\n</html>\n")
}

fn num(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        String::new()
    }
}

fn num_cell(x: f64, d: usize) -> String {
    format!("<td>{}</td>", num(x, d))
}

/// `run.json`'s thread count; a merged run has none of its own (`threads`
/// is 0 there), so its shards are named instead.
fn threads_text(run: &serde_json::Value) -> String {
    match run["merged_from"].as_array() {
        Some(shards) if !shards.is_empty() => {
            format!("per shard (merged from {} shards)", shards.len())
        }
        _ => json_text(&run["threads"]),
    }
}

fn unix_iso(v: &serde_json::Value) -> String {
    v.as_f64()
        .and_then(|s| chrono::DateTime::from_timestamp(s.floor() as i64, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `index.html`.
pub fn index_page(
    run: &serde_json::Value,
    nights: &[NightDocument],
    figs: &[NightFigures],
    errors: &[NightError],
) -> String {
    let mut h = head("crampscan report");
    h.push_str("<h1>crampscan report</h1>\n");
    let _ = writeln!(
        h,
        "<p>{} nights analysed, {} failed. Click a column header to sort.</p>",
        nights.len(),
        errors.len()
    );
    h.push_str("<h2>Nights</h2>\n<table class=\"sortable\" id=\"nights\">\n<thead><tr>");
    for (name, is_num) in [
        ("night", false),
        ("start", false),
        ("duration_h", true),
        ("analyzed_h", true),
        ("n_cramps", true),
        ("cramps_per_h", true),
        ("cramp_total_s", true),
        ("cramp_longest_s", true),
        ("n_lm", true),
        ("lm_index", true),
        ("n_plm", true),
        ("plm_index", true),
        ("n_sustained", true),
        ("figures", true),
        ("quality", false),
    ] {
        if is_num {
            let _ = write!(h, "<th data-type=\"num\">{name}</th>");
        } else {
            let _ = write!(h, "<th class=\"t\">{name}</th>");
        }
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (n, f) in nights.iter().map(|d| &d.night).zip(figs) {
        let s = &n.summary;
        let _ = write!(
            h,
            "<tr><td class=\"t\"><a href=\"{}\">{}</a></td><td class=\"t\">{}</td>",
            url_path(&night_file(&n.night)),
            esc(&n.night),
            esc(&clock(n.start_time, 0.0)
                .chars()
                .take(19)
                .collect::<String>())
        );
        h.push_str(&num_cell(s.duration_h, 2));
        h.push_str(&num_cell(s.analyzed_h, 2));
        let _ = write!(h, "<td>{}</td>", s.n_cramps);
        h.push_str(&num_cell(s.cramps_per_h, 2));
        h.push_str(&num_cell(s.cramp_total_s, 1));
        h.push_str(&num_cell(s.cramp_longest_s, 1));
        let _ = write!(h, "<td>{}</td>", s.n_lm);
        h.push_str(&num_cell(s.lm_index, 1));
        let _ = write!(h, "<td>{}</td>", s.n_plm);
        h.push_str(&num_cell(s.plm_index, 1));
        let _ = writeln!(
            h,
            "<td>{}</td><td>{}</td><td class=\"t\">{}</td></tr>",
            s.n_sustained,
            f.closeups.len() + usize::from(f.overview.is_some()),
            esc(&if n.quality.is_empty() {
                "ok".to_string()
            } else {
                n.quality.join("; ")
            })
        );
    }
    h.push_str("</tbody>\n</table>\n");
    if !errors.is_empty() {
        h.push_str("<h2>Nights that failed</h2>\n<table class=\"sortable\"><thead><tr><th class=\"t\">night</th><th class=\"t\">source</th><th class=\"t\">error</th></tr></thead>\n<tbody>\n");
        for e in errors {
            let _ = writeln!(
                h,
                "<tr><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>",
                esc(&e.night),
                esc(&e.source),
                esc(&e.error)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("<h2>Provenance</h2>\n<dl>\n");
    for (label, value) in [
        (
            "tool",
            format!("{} {}", json_text(&run["tool"]), json_text(&run["version"])),
        ),
        ("detector", json_text(&run["detector"])),
        ("threads", threads_text(run)),
        ("started", unix_iso(&run["started_unix_s"])),
        ("finished", unix_iso(&run["finished_unix_s"])),
        ("nights", json_text(&run["n_nights"])),
        ("failed", json_text(&run["n_failed"])),
    ] {
        let _ = writeln!(h, "<dt>{label}</dt><dd>{}</dd>", esc(&value));
    }
    h.push_str("</dl>\n<h3>Inputs</h3>\n<table class=\"sortable\"><thead><tr><th class=\"t\">path</th><th data-type=\"num\">size_bytes</th><th class=\"t\">blake3</th></tr></thead>\n<tbody>\n");
    for i in run["inputs"].as_array().into_iter().flatten() {
        let _ = writeln!(
            h,
            "<tr><td class=\"t\">{}</td><td>{}</td><td class=\"t\"><code>{}</code></td></tr>",
            esc(&json_text(&i["path"])),
            esc(&json_text(&i["size_bytes"])),
            esc(&json_text(&i["blake3"]))
        );
    }
    h.push_str("</tbody></table>\n");
    let cfg = serde_json::to_string_pretty(&run["config"]).unwrap_or_default();
    let _ = writeln!(
        h,
        "<details><summary>Configuration used</summary><pre>{}</pre></details>",
        esc(&cfg)
    );
    h.push_str(&tail());
    h
}

fn figure(svg: &str, png: &str, alt: &str) -> String {
    format!(
        "<figure><img class=\"fig\" src=\"{}\" alt=\"{}\"><figcaption><a href=\"{}\">SVG</a> · <a href=\"{}\">PNG</a></figcaption></figure>\n",
        url_path(svg),
        esc(alt),
        url_path(svg),
        url_path(png)
    )
}

/// The page of one night.
pub fn night_page(doc: &NightDocument, f: &NightFigures) -> String {
    let n = &doc.night;
    let mut h = head(&format!("crampscan: {}", n.night));
    let _ = writeln!(
        h,
        "<p><a href=\"index.html\">&larr; all nights</a></p>\n<h1>{}</h1>",
        esc(&n.night)
    );
    let s = &n.summary;
    h.push_str("<dl>\n");
    for (label, value) in [
        ("sources", n.sources.join("; ")),
        (
            "start",
            clock(n.start_time, 0.0)
                .chars()
                .take(19)
                .collect::<String>(),
        ),
        ("duration", format!("{} h", num(s.duration_h, 2))),
        ("analysed", format!("{} h", num(s.analyzed_h, 2))),
        (
            "channels",
            n.channels
                .iter()
                .map(|c| format!("{} ({}, {} Hz)", c.name, c.kind.as_str(), c.fs_hz))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        (
            "mains",
            n.mains_hz
                .map(|m| format!("{m} Hz"))
                .unwrap_or_else(|| "none".into()),
        ),
        ("detector", n.detector.clone()),
        (
            "cramps",
            format!(
                "{} ({} per h, {} s in all, longest {} s)",
                s.n_cramps,
                num(s.cramps_per_h, 2),
                num(s.cramp_total_s, 1),
                num(s.cramp_longest_s, 1)
            ),
        ),
        (
            "LM",
            format!("{} (index {} per h)", s.n_lm, num(s.lm_index, 1)),
        ),
        (
            "PLM",
            format!("{} (index {} per h)", s.n_plm, num(s.plm_index, 1)),
        ),
        ("sustained", s.n_sustained.to_string()),
        (
            "quality",
            if n.quality.is_empty() {
                "ok".into()
            } else {
                n.quality.join("; ")
            },
        ),
    ] {
        let _ = writeln!(h, "<dt>{label}</dt><dd>{}</dd>", esc(&value));
    }
    h.push_str("</dl>\n");
    for w in &n.warnings {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(w));
    }
    for note in &f.notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(note));
    }
    h.push_str("<h2>Overview</h2>\n");
    if let Some((svg, png)) = &f.overview {
        h.push_str(&figure(svg, png, &format!("overview of night {}", n.night)));
    }
    h.push_str("<h2>Episodes</h2>\n<table class=\"sortable\" id=\"episodes\"><thead><tr>");
    for (name, is_num) in [
        ("#", true),
        ("channel", false),
        ("kind", false),
        ("onset_clock", false),
        ("start_s", true),
        ("duration_s", true),
        ("peak_rms_uv", true),
        ("baseline_rms_uv", true),
        ("median_freq_hz", true),
        ("accel_enmo_g", true),
        ("confidence", true),
        ("close-up", false),
    ] {
        if is_num {
            let _ = write!(h, "<th data-type=\"num\">{name}</th>");
        } else {
            let _ = write!(h, "<th class=\"t\">{name}</th>");
        }
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (i, e) in n.episodes.iter().enumerate() {
        let link = f
            .closeups
            .iter()
            .find(|c| c.0 == i)
            .map(|_| format!("<a href=\"#episode-{:03}\">view</a>", i + 1))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"t\">{}</td><td class=\"t k-{k}\">{k}</td><td class=\"t\">{}</td>{}{}{}{}{}{}{}<td class=\"t\">{link}</td></tr>",
            i + 1,
            esc(&e.channel),
            esc(&clock(n.start_time, e.start_s)),
            num_cell(e.start_s, 1),
            num_cell(e.duration_s(), 1),
            num_cell(e.peak_rms_uv, 1),
            num_cell(e.baseline_rms_uv, 1),
            num_cell(e.median_freq_hz.unwrap_or(f64::NAN), 0),
            num_cell(e.accel_enmo_g.unwrap_or(f64::NAN), 3),
            num_cell(e.confidence, 2),
            k = e.kind.as_str(),
        );
    }
    h.push_str("</tbody></table>\n");
    if !f.closeups.is_empty() {
        h.push_str("<h2>Close-ups</h2>\n");
        for (i, svg, png) in &f.closeups {
            let e = &n.episodes[*i];
            let _ = writeln!(
                h,
                "<section id=\"episode-{:03}\"><h3>#{} {} on {}, {} s</h3>",
                i + 1,
                i + 1,
                e.kind.as_str(),
                esc(&e.channel),
                num(e.duration_s(), 1)
            );
            h.push_str(&figure(
                svg,
                png,
                &format!("close-up of episode {} of night {}", i + 1, n.night),
            ));
            h.push_str("</section>\n");
        }
    }
    h.push_str(&tail());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_night_page_is_the_index_and_no_two_nights_share_one() {
        assert_eq!(night_file("p01"), "p01.html");
        assert_eq!(night_file("index"), "_index.html");
        assert_eq!(night_file("INDEX"), "_INDEX.html");
        let ids = ["index", "_index", "__index", "_x", "x", "Index"];
        let pages: std::collections::BTreeSet<String> = ids.iter().map(|i| night_file(i)).collect();
        assert_eq!(pages.len(), ids.len());
        assert!(!pages.iter().any(|p| p.eq_ignore_ascii_case("index.html")));
    }

    #[test]
    fn text_and_paths_are_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(url_path("figures/n #1/ov.svg"), "figures/n%20%231/ov.svg");
        assert_eq!(url_path("µ"), "%C2%B5");
    }
}
