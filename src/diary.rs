//! Nightly diaries (issue 19): a CSV with one row per subject and night,
//! keyed by `night` (the night id) or by `subject` + `date` (the evening's
//! date), whose other columns are covariates; and the join of its rows to
//! the nights of a run.
//!
//! A recording starting between noon of day D and noon of D+1 belongs to
//! the night of D ([`night_date`]). Each covariate column is a number, a
//! yes/no or a category, decided per column from its cells
//! ([`CovariateKind`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};

use crate::error::{Error, Result};

/// The key columns of a diary: `night`, or `subject` and `date`.
pub const KEY_COLUMNS: &[&str] = &["night", "subject", "date"];

/// The fixed columns of the tidy `cohort_nights.csv`, which a covariate
/// cannot be named (its columns follow them).
pub const TIDY_COLUMNS: &[&str] = &[
    "subject",
    "night",
    "date",
    "exposure_h",
    "n_cramps",
    "cramp_total_s",
    "sleep_h",
    "cramp_wake_min",
    "n_cramp_awakenings",
];

/// Cells read as a missing value in any covariate column (besides empty).
pub const MISSING_CELLS: &[&str] = &["na", "n/a", "nan", "."];

/// Cells read as yes and as no in a yes/no column (case-insensitive).
pub const YES_CELLS: &[&str] = &["yes", "y", "true"];
pub const NO_CELLS: &[&str] = &["no", "n", "false"];

/// The hour of the day at which one night's date ends and the next begins:
/// a recording starting before noon belongs to the evening before.
pub const NIGHT_DATE_CUT_HOUR: i64 = 12;

/// Largest diary read, bytes (a row is at most a few hundred bytes: a
/// million rows is far beyond any study).
pub const MAX_DIARY_BYTES: u64 = 256 << 20;

/// What a covariate column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CovariateKind {
    /// Every present cell is a finite number (minutes, litres, mg).
    Number,
    /// Every present cell is yes/no ([`YES_CELLS`], [`NO_CELLS`]).
    YesNo,
    /// Anything else: text levels (`arm`).
    Category,
}

impl CovariateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CovariateKind::Number => "number",
            CovariateKind::YesNo => "yes/no",
            CovariateKind::Category => "category",
        }
    }
}

/// One covariate cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    Number(f64),
    YesNo(bool),
    Category(String),
}

impl Value {
    /// The cell as a table writes it: numbers as given, `yes`/`no`, the
    /// category's text, empty when missing.
    pub fn cell(&self, given: &str) -> String {
        match self {
            Value::Missing => String::new(),
            Value::Number(_) => given.trim().to_string(),
            Value::YesNo(b) => if *b { "yes" } else { "no" }.to_string(),
            Value::Category(c) => c.clone(),
        }
    }
}

/// A covariate column: its name as tables write it ([`clean_name`]), the
/// name in the diary's header, and its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    pub name: String,
    pub header: String,
    pub kind: CovariateKind,
}

/// What identifies a diary row's night.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowKey {
    Night(String),
    SubjectDate(String, NaiveDate),
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowKey::Night(n) => write!(f, "night {n}"),
            RowKey::SubjectDate(s, d) => write!(f, "subject {s}, date {d}"),
        }
    }
}

/// One diary row.
#[derive(Debug, Clone, PartialEq)]
pub struct DiaryRow {
    /// Line in the file (1 is the header).
    pub line: u64,
    pub key: RowKey,
    /// One per covariate, in column order.
    pub values: Vec<Value>,
    /// The cells as given, trimmed, one per covariate.
    pub cells: Vec<String>,
}

impl DiaryRow {
    /// The covariate cells as tables write them.
    pub fn table_cells(&self) -> Vec<String> {
        self.values
            .iter()
            .zip(&self.cells)
            .map(|(v, c)| v.cell(c))
            .collect()
    }
}

/// A diary read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Diary {
    pub path: PathBuf,
    pub covariates: Vec<Covariate>,
    pub rows: Vec<DiaryRow>,
}

/// A column name as tables write it: every run of characters other than
/// ASCII letters, digits and `_` becomes one `_` (`µ` becomes `u`), no `_`
/// at either end, so `Fluid (L)` gives `Fluid_L` and `magnesium µg` gives
/// `magnesium_ug`. Units stay in the name.
pub fn clean_name(header: &str) -> String {
    let mut out = String::new();
    for c in header.trim().chars() {
        let c = if c == 'µ' || c == 'μ' { 'u' } else { c };
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// The night a recording starting at `start` belongs to: the date of
/// `start` minus [`NIGHT_DATE_CUT_HOUR`] hours (23:10 on 3 March and 00:40
/// on 4 March both give 3 March).
pub fn night_date(start: NaiveDateTime) -> NaiveDate {
    (start - chrono::Duration::hours(NIGHT_DATE_CUT_HOUR)).date()
}

fn is_missing(cell: &str) -> bool {
    cell.is_empty() || MISSING_CELLS.contains(&cell.to_ascii_lowercase().as_str())
}

fn yes_no(cell: &str) -> Option<bool> {
    let l = cell.to_ascii_lowercase();
    if YES_CELLS.contains(&l.as_str()) {
        Some(true)
    } else if NO_CELLS.contains(&l.as_str()) {
        Some(false)
    } else {
        None
    }
}

fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The kind of a column from its present cells: yes/no when all are,
/// a number when more than half are numbers (the others are then errors:
/// a typo in a numeric column must not turn it into categories), else a
/// category.
pub fn column_kind(cells: &[&str]) -> CovariateKind {
    let present: Vec<&str> = cells.iter().copied().filter(|c| !is_missing(c)).collect();
    if !present.is_empty() && present.iter().all(|c| yes_no(c).is_some()) {
        return CovariateKind::YesNo;
    }
    let numbers = present.iter().filter(|c| number(c).is_some()).count();
    if !present.is_empty() && 2 * numbers > present.len() {
        CovariateKind::Number
    } else {
        CovariateKind::Category
    }
}

/// A diary's table: header and rows (line, trimmed cells).
type RawTable = (Vec<String>, Vec<(u64, Vec<String>)>);

fn read_raw(path: &Path) -> Result<RawTable> {
    crate::io::bounds::check_regular(path)?;
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len > MAX_DIARY_BYTES {
        return Err(Error::input(
            path,
            format!("{len} bytes; expected a diary of at most {MAX_DIARY_BYTES}"),
        ));
    }
    let (mut rdr, headers) = crate::io::open_table(path)?;
    let header: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::input(path, e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() != header.len() {
            return Err(Error::input(
                path,
                format!(
                    "line {line}: {} cells; expected {} (one per header column)",
                    rec.len(),
                    header.len()
                ),
            ));
        }
        rows.push((line, rec.iter().map(|c| c.trim().to_string()).collect()));
    }
    Ok((header, rows))
}

/// Which columns key the rows: `Ok((night, subject, date))` indices.
type KeyCols = (Option<usize>, Option<usize>, Option<usize>);

fn key_columns(path: &Path, header: &[String]) -> Result<KeyCols> {
    let col = |n: &str| header.iter().position(|h| h.eq_ignore_ascii_case(n));
    let (n, s, d) = (col("night"), col("subject"), col("date"));
    if n.is_none() && (s.is_none() || d.is_none()) {
        return Err(Error::input(
            path,
            format!(
                "line 1: expected a night column, or subject and date columns; found {}",
                header.join(", ")
            ),
        ));
    }
    Ok((n, s, d))
}

/// The covariate columns (every column but the keys), named and typed.
fn covariates(
    path: &Path,
    header: &[String],
    rows: &[(u64, Vec<String>)],
) -> Result<Vec<(usize, Covariate)>> {
    let mut out: Vec<(usize, Covariate)> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if KEY_COLUMNS.contains(&h.to_ascii_lowercase().as_str()) {
            continue;
        }
        let name = clean_name(h);
        if name.is_empty() {
            return Err(Error::input(
                path,
                format!("line 1, column {}: the header \"{h}\" has no letters or digits; expected a name", i + 1),
            ));
        }
        if TIDY_COLUMNS.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            return Err(Error::input(
                path,
                format!("line 1, column {}: \"{h}\" is a column of cohort_nights.csv already ({}); rename it", i + 1, TIDY_COLUMNS.join(", ")),
            ));
        }
        if let Some((j, other)) = out.iter().find(|(_, c)| c.name.eq_ignore_ascii_case(&name)) {
            return Err(Error::input(
                path,
                format!(
                    "line 1: columns {} (\"{}\") and {} (\"{h}\") both give the name {name}; rename one",
                    j + 1,
                    other.header,
                    i + 1
                ),
            ));
        }
        let cells: Vec<&str> = rows.iter().map(|(_, r)| r[i].as_str()).collect();
        out.push((
            i,
            Covariate {
                name,
                header: h.clone(),
                kind: column_kind(&cells),
            },
        ));
    }
    Ok(out)
}

/// A covariate cell read by its column's kind; a non-number in a numeric
/// column is an error naming line and column.
pub fn value(path: &Path, line: u64, col: usize, c: &Covariate, cell: &str) -> Result<Value> {
    if is_missing(cell) {
        return Ok(Value::Missing);
    }
    Ok(match c.kind {
        CovariateKind::Number => Value::Number(number(cell).ok_or_else(|| {
            Error::input(
                path,
                format!(
                    "line {line}, column {} ({}): expected a number (the column's other values are numbers; leave the cell empty or NA when not known), found \"{cell}\"",
                    col + 1,
                    c.header
                ),
            )
        })?),
        CovariateKind::YesNo => Value::YesNo(yes_no(cell).unwrap_or(false)),
        CovariateKind::Category => Value::Category(cell.to_string()),
    })
}

/// A row's key; an empty key cell or a bad date is an error naming the place.
fn row_key(path: &Path, line: u64, cells: &[String], keys: KeyCols) -> Result<RowKey> {
    let need = |i: usize, what: &str| -> Result<&str> {
        let v = cells[i].as_str();
        if v.is_empty() {
            Err(Error::input(
                path,
                format!(
                    "line {line}, column {} ({what}): empty; expected a {what}",
                    i + 1
                ),
            ))
        } else {
            Ok(v)
        }
    };
    match keys {
        (Some(n), _, _) => Ok(RowKey::Night(need(n, "night")?.to_string())),
        (None, Some(s), Some(d)) => {
            let subject = need(s, "subject")?.to_string();
            let text = need(d, "date")?;
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                Error::input(
                    path,
                    format!(
                        "line {line}, column {} (date): expected a date YYYY-MM-DD (the evening's date), found \"{text}\"",
                        d + 1
                    ),
                )
            })?;
            Ok(RowKey::SubjectDate(subject, date))
        }
        _ => Err(Error::input(
            path,
            "line 1: expected a night column, or subject and date columns",
        )),
    }
}

impl Diary {
    /// Reads and checks a diary. Errors name the file, line and column and
    /// what was expected: no key columns, an empty key, a bad date, a
    /// non-number in a numeric column, two rows for one night (naming both
    /// lines).
    pub fn read(path: &Path) -> Result<Diary> {
        let (header, raw) = read_raw(path)?;
        let keys = key_columns(path, &header)?;
        let covs = covariates(path, &header, &raw)?;
        let mut seen: BTreeMap<RowKey, u64> = BTreeMap::new();
        let mut rows = Vec::new();
        for (line, cells) in &raw {
            let key = row_key(path, *line, cells, keys)?;
            if let Some(first) = seen.insert(key.clone(), *line) {
                return Err(Error::input(
                    path,
                    format!(
                        "line {line}: {key} is on line {first} too; expected one row per night"
                    ),
                ));
            }
            let mut values = Vec::new();
            let mut given = Vec::new();
            for (i, c) in &covs {
                values.push(value(path, *line, *i, c, &cells[*i])?);
                given.push(cells[*i].clone());
            }
            rows.push(DiaryRow {
                line: *line,
                key,
                values,
                cells: given,
            });
        }
        Ok(Diary {
            path: path.to_path_buf(),
            covariates: covs.into_iter().map(|(_, c)| c).collect(),
            rows,
        })
    }

    /// Whether rows are keyed by subject and date (else by night id).
    pub fn by_subject_date(&self) -> bool {
        matches!(
            self.rows.first().map(|r| &r.key),
            Some(RowKey::SubjectDate(..))
        )
    }
}

/// What the join needs of a night.
#[derive(Debug, Clone, PartialEq)]
pub struct NightKey {
    pub night: String,
    pub subject: Option<String>,
    pub start_time: Option<NaiveDateTime>,
}

/// The outcome of a join: the diary row of each night (by index into the
/// diary's rows), and what did not match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Join {
    /// One per night, in the order given.
    pub row_of: Vec<Option<usize>>,
    /// Diary rows that match no night, with why.
    pub unmatched_rows: Vec<String>,
    /// Nights without a diary row, with why.
    pub nights_without_row: Vec<String>,
}

impl Join {
    /// Every warning, unmatched rows first.
    pub fn warnings(&self) -> Vec<String> {
        self.unmatched_rows
            .iter()
            .chain(&self.nights_without_row)
            .cloned()
            .collect()
    }
}

/// The key a night is found under in a diary, or why it has none.
fn night_row_key(diary: &Diary, n: &NightKey) -> std::result::Result<RowKey, String> {
    if !diary.by_subject_date() {
        return Ok(RowKey::Night(n.night.clone()));
    }
    let subject = n.subject.clone().ok_or_else(|| {
        format!("night {}: no diary row (the night has no subject; give one in the manifest's subject column)", n.night)
    })?;
    let start = n.start_time.ok_or_else(|| {
        format!(
            "night {}: no diary row (its recording has no start time, so its date is not known)",
            n.night
        )
    })?;
    Ok(RowKey::SubjectDate(subject, night_date(start)))
}

/// Joins the diary's rows to `nights`. A subject and date that two
/// recordings fall on is an error naming both; rows without a night and
/// nights without a row are listed in the [`Join`].
pub fn join(diary: &Diary, nights: &[NightKey]) -> Result<Join> {
    let index: BTreeMap<&RowKey, usize> = diary
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.key, i))
        .collect();
    let mut out = Join::default();
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    for (k, n) in nights.iter().enumerate() {
        let row = match night_row_key(diary, n) {
            Err(why) => {
                out.nights_without_row.push(why);
                None
            }
            Ok(key) => match index.get(&key) {
                None => {
                    out.nights_without_row
                        .push(format!("night {}: no diary row for {key}", n.night));
                    None
                }
                Some(&i) => {
                    if let Some(&other) = taken.get(&i) {
                        return Err(Error::input(
                            &diary.path,
                            format!(
                                "line {}: {key} matches two recordings: night {} ({}) and night {} ({}); give the diary a night column, or keep one recording per subject and night",
                                diary.rows[i].line,
                                nights[other].night,
                                start_text(&nights[other]),
                                n.night,
                                start_text(n)
                            ),
                        ));
                    }
                    taken.insert(i, k);
                    Some(i)
                }
            },
        };
        out.row_of.push(row);
    }
    for (i, r) in diary.rows.iter().enumerate() {
        if !taken.contains_key(&i) {
            out.unmatched_rows.push(format!(
                "{} line {}: {} matches no night of the run",
                diary.path.display(),
                r.line,
                r.key
            ));
        }
    }
    Ok(out)
}

fn start_text(n: &NightKey) -> String {
    n.start_time
        .map(|t| format!("starts {}", t.format("%Y-%m-%dT%H:%M:%S")))
        .unwrap_or_else(|| "no start time".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diary(text: &str) -> (tempfile::TempDir, Result<Diary>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("diary.csv");
        std::fs::write(&p, text).unwrap();
        let d = Diary::read(&p);
        (dir, d)
    }

    fn at(s: &str) -> Option<NaiveDateTime> {
        Some(NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap())
    }

    fn key(night: &str, subject: Option<&str>, start: &str) -> NightKey {
        NightKey {
            night: night.into(),
            subject: subject.map(str::to_string),
            start_time: at(start),
        }
    }

    #[test]
    fn columns_are_typed_and_named_with_their_units() {
        let (_d, d) = diary(
            "night,Exercise (min),fluid_L,diuretic,arm,magnesium µg\n\
             n1,30,1.5,yes,A,300\nn2,0,NA,no,B,\nn3,45,2,Y,A,0\n",
        );
        let d = d.unwrap();
        let got: Vec<(&str, CovariateKind)> = d
            .covariates
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("Exercise_min", CovariateKind::Number),
                ("fluid_L", CovariateKind::Number),
                ("diuretic", CovariateKind::YesNo),
                ("arm", CovariateKind::Category),
                ("magnesium_ug", CovariateKind::Number),
            ]
        );
        assert_eq!(d.rows[1].values[1], Value::Missing);
        assert_eq!(d.rows[2].values[2], Value::YesNo(true));
        assert_eq!(d.rows[2].table_cells(), ["45", "2", "yes", "A", "0"]);
        assert_eq!(d.rows[1].table_cells(), ["0", "", "no", "B", ""]);
    }

    #[test]
    fn a_word_in_a_numeric_column_names_line_and_column() {
        let (_d, d) = diary(
            "subject,date,exercise_min\ns1,2026-03-01,30\ns1,2026-03-02,lots\ns1,2026-03-03,0\n",
        );
        let e = d.unwrap_err().to_string();
        assert!(
            e.contains("line 3, column 3 (exercise_min): expected a number")
                && e.contains("\"lots\""),
            "{e}"
        );
        let (_d, d) = diary("subject,date,x\ns1,03/01/2026,1\n");
        let e = d.unwrap_err().to_string();
        assert!(
            e.contains("line 2, column 2 (date): expected a date YYYY-MM-DD"),
            "{e}"
        );
        let (_d, d) = diary("subject,x\ns1,1\n");
        assert!(d
            .unwrap_err()
            .to_string()
            .contains("expected a night column, or subject and date"));
    }

    #[test]
    fn a_duplicate_row_names_both_lines() {
        let (_d, d) = diary("subject,date,x\ns1,2026-03-01,1\ns2,2026-03-01,1\ns1,2026-03-01,2\n");
        let e = d.unwrap_err().to_string();
        assert!(
            e.contains("line 4: subject s1, date 2026-03-01 is on line 2 too"),
            "{e}"
        );
        let (_d, d) = diary("night,x\na,1\na,2\n");
        assert!(d
            .unwrap_err()
            .to_string()
            .contains("line 3: night a is on line 2 too"));
    }

    #[test]
    fn nights_join_by_id_with_the_unmatched_listed() {
        let (_d, d) = diary("night,x\nn1,1\nn2,2\nghost,3\n");
        let d = d.unwrap();
        let nights = [
            key("n1", None, "2026-03-01T23:00:00"),
            key("n2", None, "2026-03-02T23:00:00"),
            key("n3", None, "2026-03-03T23:00:00"),
        ];
        let j = join(&d, &nights).unwrap();
        assert_eq!(j.row_of, [Some(0), Some(1), None]);
        assert_eq!(j.unmatched_rows.len(), 1);
        assert!(
            j.unmatched_rows[0].ends_with("line 4: night ghost matches no night of the run"),
            "{:?}",
            j.unmatched_rows
        );
        assert_eq!(
            j.nights_without_row,
            ["night n3: no diary row for night n3"]
        );
    }

    #[test]
    fn subject_and_date_follow_the_noon_rule_across_midnight() {
        assert_eq!(
            night_date(at("2026-03-03T23:10:00").unwrap()).to_string(),
            "2026-03-03"
        );
        assert_eq!(
            night_date(at("2026-03-04T00:40:00").unwrap()).to_string(),
            "2026-03-03"
        );
        assert_eq!(
            night_date(at("2026-03-04T11:59:59").unwrap()).to_string(),
            "2026-03-03"
        );
        assert_eq!(
            night_date(at("2026-03-04T12:00:00").unwrap()).to_string(),
            "2026-03-04"
        );
        let (_d, d) = diary("subject,date,x\ns1,2026-03-03,1\ns1,2026-03-04,2\ns2,2026-03-03,3\n");
        let d = d.unwrap();
        let nights = [
            // After midnight: the night of the 3rd.
            key("a", Some("s1"), "2026-03-04T00:40:00"),
            key("b", Some("s1"), "2026-03-04T22:00:00"),
            key("c", Some("s2"), "2026-03-03T21:30:00"),
            key("d", None, "2026-03-03T21:30:00"),
        ];
        let j = join(&d, &nights).unwrap();
        assert_eq!(j.row_of, [Some(0), Some(1), Some(2), None]);
        assert!(j.nights_without_row[0].contains("night d: no diary row (the night has no subject"));
        assert!(j.unmatched_rows.is_empty());
    }

    #[test]
    fn a_date_on_two_recordings_names_both() {
        let (_d, d) = diary("subject,date,x\ns1,2026-03-03,1\n");
        let d = d.unwrap();
        let nights = [
            key("a", Some("s1"), "2026-03-03T22:00:00"),
            key("b", Some("s1"), "2026-03-04T03:00:00"),
        ];
        let e = join(&d, &nights).unwrap_err().to_string();
        assert!(
            e.contains("line 2: subject s1, date 2026-03-03 matches two recordings: night a (starts 2026-03-03T22:00:00) and night b (starts 2026-03-04T03:00:00)"),
            "{e}"
        );
    }
}
