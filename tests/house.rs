//! The house rules a reader relies on (issue 17), checked on the source:
//! no import circle between the library's top-level modules, and no
//! function in src/ (outside `#[cfg(test)]` items) longer than
//! [`MAX_FN_LINES`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of a file under src/ (`src/score/plm.rs` → `score`).
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::<module>` references outside comments and test modules.
fn uses(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let name: String = line[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn no_import_circle_between_top_level_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let m = module_of(f.strip_prefix(&src).unwrap());
        if ["lib", "main", "bin", "cli"].contains(&m.as_str()) {
            continue;
        }
        let deps = uses(&std::fs::read_to_string(f).unwrap());
        graph
            .entry(m.clone())
            .or_default()
            .extend(deps.into_iter().filter(|d| *d != m));
    }
    assert!(graph.len() > 10, "found only {:?}", graph.keys());
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = path.iter().position(|p| p == m) {
            panic!("import circle: {} -> {m}", path[i..].join(" -> "));
        }
        path.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            visit(d, g, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
}

/// Longest function body allowed in src/, lines from `fn` to its closing
/// brace (STYLE: functions rarely over 80 lines, never over 150).
const MAX_FN_LINES: usize = 150;

/// Functions still longer than [`MAX_FN_LINES`], as (file under the
/// repository, name): each entry is work left, not a licence. None left.
const KNOWN_LONG: &[(&str, &str)] = &[];

/// Functions that read as a short sequence of named stages (issue 17),
/// held to STYLE's usual length, lines.
const STAGED: &[(&str, &str)] = &[
    ("src/night.rs", "process_night_with"),
    ("src/batch.rs", "scan"),
];
/// STYLE: functions rarely longer than this, lines.
const STAGED_MAX_LINES: usize = 80;

/// A function found by [`functions`]: name, line of its `fn` (1-based)
/// and length in lines, `fn` line and closing brace included.
#[derive(Debug, PartialEq)]
struct FnSpan {
    name: String,
    line: usize,
    lines: usize,
}

/// Index just past a quoted literal opening at `at` (`"`), escapes
/// honoured; counts the newlines it holds into `line`.
fn skip_string(c: &[char], at: usize, line: &mut usize) -> usize {
    let mut i = at + 1;
    while i < c.len() {
        match c[i] {
            '\\' => i += 1,
            '"' => return i + 1,
            '\n' => *line += 1,
            _ => {}
        }
        if i < c.len() && c[i] == '\n' && c[i - 1] == '\\' {
            *line += 1;
        }
        i += 1;
    }
    i
}

/// Index just past a raw string whose `#`s and `"` start at `at`
/// (`r#"…"#`), or `None` when `at` does not open one.
fn skip_raw_string(c: &[char], at: usize, line: &mut usize) -> Option<usize> {
    let hashes = c[at..].iter().take_while(|&&x| x == '#').count();
    if c.get(at + hashes) != Some(&'"') {
        return None;
    }
    let mut i = at + hashes + 1;
    while i < c.len() {
        if c[i] == '\n' {
            *line += 1;
        }
        if c[i] == '"'
            && c[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&x| x == '#')
                .count()
                == hashes
        {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(i)
}

/// Index just past a block comment opening at `at` (`/*`), nesting
/// honoured.
fn skip_block_comment(c: &[char], at: usize, line: &mut usize) -> usize {
    let (mut i, mut depth) = (at + 2, 1);
    while i < c.len() && depth > 0 {
        match (c[i], c.get(i + 1)) {
            ('/', Some('*')) => (depth, i) = (depth + 1, i + 1),
            ('*', Some('/')) => (depth, i) = (depth - 1, i + 1),
            ('\n', _) => *line += 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Index just past a char literal opening at `at` (`'`), or `at + 1` for a
/// lifetime or label (`'a`, `'outer:`).
fn skip_quote(c: &[char], at: usize) -> usize {
    match (c.get(at + 1), c.get(at + 2)) {
        (Some('\\'), _) => {
            // '\n', '\'', '\u{1F600}': up to the closing quote.
            let mut i = at + 3;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i + 1
        }
        (Some(_), Some('\'')) => at + 3,
        _ => at + 1,
    }
}

/// Every `fn` with a body in Rust source `text`, outside items marked
/// `#[cfg(test)]`: strings, raw strings, chars, lifetimes and comments
/// skipped, braces balanced.
fn functions(text: &str) -> Vec<FnSpan> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0usize, 1usize);
    // Open braces: for each, the function it opens (name, line) if any,
    // and whether it opens a `#[cfg(test)]` item.
    let mut stack: Vec<(Option<(String, usize)>, bool)> = Vec::new();
    // A `fn` seen whose body has not opened yet, with the ( [ depth of its
    // signature; a `;` at depth 0 ends a bodiless declaration.
    let mut pending: Option<(String, usize)> = None;
    let mut sig_depth = 0i32;
    let mut test_pending = false;
    let in_test = |stack: &Vec<(Option<(String, usize)>, bool)>| stack.iter().any(|s| s.1);
    while i < c.len() {
        let ch = c[i];
        match ch {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => i = skip_block_comment(&c, i, &mut line),
            '"' => i = skip_string(&c, i, &mut line),
            '\'' => i = skip_quote(&c, i),
            '#' if c[i..].iter().take(12).collect::<String>() == "#[cfg(test)]" => {
                test_pending = true;
                i += 12;
            }
            '(' | '[' => {
                sig_depth += 1;
                i += 1;
            }
            ')' | ']' => {
                sig_depth -= 1;
                i += 1;
            }
            ';' => {
                if sig_depth <= 0 {
                    pending = None;
                    test_pending = false;
                }
                i += 1;
            }
            '{' => {
                stack.push((pending.take(), test_pending));
                test_pending = false;
                i += 1;
            }
            '}' => {
                if let Some((Some((name, start)), test)) = stack.pop() {
                    if !test && !in_test(&stack) {
                        out.push(FnSpan {
                            name,
                            line: start,
                            lines: line - start + 1,
                        });
                    }
                }
                i += 1;
            }
            _ if ch.is_alphabetic() || ch == '_' => {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                let word: String = c[start..i].iter().collect();
                let after_quote = matches!(c.get(i), Some('"') | Some('#'));
                if matches!(word.as_str(), "r" | "br" | "cr") && after_quote {
                    if let Some(end) = skip_raw_string(&c, i, &mut line) {
                        i = end;
                    }
                } else if word == "fn" {
                    // `fn(f64) -> f64` is a type, not a function.
                    let mut j = i;
                    while j < c.len() && c[j].is_whitespace() {
                        j += 1;
                    }
                    let name: String = c[j..]
                        .iter()
                        .take_while(|x| x.is_alphanumeric() || **x == '_')
                        .collect();
                    if !name.is_empty() {
                        pending = Some((name, line));
                        sig_depth = 0;
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

#[test]
fn the_function_scanner_measures_known_answers() {
    let text = r###"
fn short() -> &'static str {
    let s = "} not a brace {";
    let c = '{';
    let r = r#"}"#;
    // }
    /* } /* nested } */ */
    'outer: loop { break 'outer; }
    s
}
trait T { fn decl(&self) -> [u8; 2]; fn body(&self) { } }
fn takes(f: fn(f64) -> f64) -> f64 {
    f(1.0)
}
#[cfg(test)]
mod tests {
    fn hidden() {}
}
#[cfg(test)]
fn also_hidden() {
}
fn last<'a>(x: &'a str) -> char {
    let _ = b'}';
    let _ = '\'';
    let _ = "\"}";
    'x'
}
"###;
    let got = functions(text);
    let want = [
        ("short", 2, 9),
        ("body", 11, 1),
        ("takes", 12, 3),
        ("last", 22, 6),
    ];
    let got: Vec<(&str, usize, usize)> = got
        .iter()
        .map(|f| (f.name.as_str(), f.line, f.lines))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn no_function_in_src_is_longer_than_150_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut n_fns = 0;
    let mut long = Vec::new();
    let mut staged_seen = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for s in functions(&text) {
            n_fns += 1;
            let rel = f
                .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")))
                .unwrap();
            let known = KNOWN_LONG
                .iter()
                .any(|(file, name)| rel == Path::new(file) && s.name == *name);
            if STAGED
                .iter()
                .any(|(file, name)| rel == Path::new(file) && s.name == *name)
            {
                staged_seen += 1;
                if s.lines > STAGED_MAX_LINES {
                    long.push(format!(
                        "{}:{}: fn {} is {} lines (a sequence of stages: at most {STAGED_MAX_LINES})",
                        rel.display(),
                        s.line,
                        s.name,
                        s.lines
                    ));
                }
            }
            if s.lines > MAX_FN_LINES && !known {
                long.push(format!(
                    "{}:{}: fn {} is {} lines",
                    rel.display(),
                    s.line,
                    s.name,
                    s.lines
                ));
            }
        }
    }
    // The scanner found the library's functions, not a handful.
    assert!(n_fns > 500, "found only {n_fns} functions in src/");
    assert_eq!(staged_seen, STAGED.len(), "a function of STAGED is missing");
    assert!(
        long.is_empty(),
        "functions longer than {MAX_FN_LINES} lines (split them into named stages):\n{}",
        long.join("\n")
    );
}
