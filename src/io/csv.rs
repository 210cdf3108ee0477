//! CSV reader: a header row, one column per channel, an optional time
//! column (`time`, `time_s`, `t`, `timestamp`: seconds or ISO 8601) from
//! which the sample rate is inferred and checked. Rows stream through one
//! reused `ByteRecord`; numbers are parsed from bytes with fast-float2.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use super::bounds::{MAX_CSV_COLUMNS, MAX_CSV_LINE_BYTES};
use super::{checked_unit_scale, kind_from_name, select, sidecar, SampleSource};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::recording::{Block, ChannelInfo, ChannelKind, RecordingInfo};

/// Earliest and latest first time value read as Unix seconds (UTC), s:
/// 2000-01-01 to 2100-01-01. A seconds column starting there is a clock,
/// not time from the start, and gives the recording's start time.
const UNIX_START_RANGE_S: (f64, f64) = (946_684_800.0, 4_102_444_800.0);

/// The start time given by a first time value in Unix seconds, if it is one.
fn unix_start(t0_s: f64) -> Option<chrono::NaiveDateTime> {
    if !(UNIX_START_RANGE_S.0..UNIX_START_RANGE_S.1).contains(&t0_s) {
        return None;
    }
    let secs = t0_s.floor();
    let nanos = ((t0_s - secs) * 1e9).round().min(999_999_999.0) as u32;
    chrono::DateTime::from_timestamp(secs as i64, nanos).map(|d| d.naive_utc())
}

/// Names recognised as the time column (case-insensitive).
pub const TIME_COLUMNS: &[&str] = &["time", "time_s", "t", "timestamp"];
/// Rows read ahead to infer the sample rate from the time column.
const RATE_PROBE_ROWS: usize = 1024;
/// A sample interval off by more than this share of the nominal one is a gap
/// or an irregularity.
const INTERVAL_TOLERANCE: f64 = 0.5;

#[derive(Clone, Copy, PartialEq)]
enum TimeFormat {
    Seconds,
    Iso,
}

struct Column {
    field: usize,
    name: String,
    /// raw * scale + offset gives µV or g.
    scale: f64,
    offset: f64,
}

pub struct CsvSource {
    info: RecordingInfo,
    path: PathBuf,
    reader: csv::Reader<Box<dyn Read + Send>>,
    record: ByteRecord,
    n_fields: usize,
    columns: Vec<Column>,
    time: Option<(usize, TimeFormat)>,
    /// Time of the first sample, s (or the ISO start).
    t0_s: f64,
    start_iso: Option<chrono::NaiveDateTime>,
    /// Rows read ahead during open, delivered first.
    head: Vec<(u64, Vec<f32>)>,
    head_pos: usize,
    prev_time_s: Option<f64>,
    irregular: u64,
    first_irregular: Option<(u64, f64, f64)>,
    done: bool,
}

/// The 1-based line of `byte` in `path`, counted from the file itself: the
/// csv crate's own line count drifts on CRLF files read with a space
/// delimiter. Only called on the way to an error.
fn line_of(path: &Path, byte: u64, fallback: u64) -> u64 {
    match std::fs::read(path) {
        Ok(b) => {
            // On CRLF files the record's position is the '\n' of the
            // previous line ending: count it too.
            let end = (byte as usize + 1).min(b.len());
            1 + b[..end].iter().filter(|&&c| c == b'\n').count() as u64
        }
        Err(_) => fallback,
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// What the first lines of a text file say about its layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Sniff {
    pub delimiter: u8,
    /// The first non-comment line is data, not column names.
    pub headerless: bool,
    /// Rate from a `# Sampling Rate (Hz):= 1000.00` comment (OpenSignals/BioSPPy).
    pub rate_hz: Option<f64>,
    /// Names from a `# Labels:= EMG` comment.
    pub labels: Vec<String>,
}

/// The file's bytes as the csv crate should see them: as they are, or, for
/// whitespace-separated columns, with each run of blanks made one space and
/// blanks at line ends dropped (aligned columns use several).
///
/// Lines longer than [`MAX_CSV_LINE_BYTES`] end the reading with an error
/// naming the line: a record is held whole, so a file without line breaks
/// would be held whole.
fn text_reader(path: &Path, delimiter: u8) -> Result<Box<dyn Read + Send>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(if delimiter == b' ' {
        Box::new(LineCap::new(SqueezeBlanks {
            inner: file,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            pending: false,
            line_start: true,
        }))
    } else {
        Box::new(LineCap::new(file))
    })
}

/// Passes bytes through, failing once a line exceeds [`MAX_CSV_LINE_BYTES`].
pub struct LineCap<R> {
    inner: R,
    /// Bytes since the last line break.
    run: usize,
    /// 1-based number of the current line.
    line: u64,
}

impl<R> LineCap<R> {
    pub fn new(inner: R) -> LineCap<R> {
        LineCap {
            inner,
            run: 0,
            line: 1,
        }
    }
}

impl<R> LineCap<R> {
    fn too_long(&self) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "line {}: longer than {MAX_CSV_LINE_BYTES} bytes; expected at most that per line (not a text recording?)",
                self.line
            ),
        )
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        let chunk = &out[..n];
        // Whole-chunk scans (vectorised) rather than a branch per byte:
        // this sits on the hot path of every CSV night.
        match chunk.iter().position(|&b| b == b'\n') {
            None => {
                self.run += n;
                if self.run > MAX_CSV_LINE_BYTES {
                    return Err(self.too_long());
                }
            }
            Some(first) => {
                if self.run + first > MAX_CSV_LINE_BYTES {
                    return Err(self.too_long());
                }
                if n > MAX_CSV_LINE_BYTES {
                    // A chunk larger than the cap may hide a long line inside.
                    for line in chunk[first + 1..].split(|&b| b == b'\n') {
                        self.line += 1;
                        if line.len() > MAX_CSV_LINE_BYTES {
                            return Err(self.too_long());
                        }
                    }
                } else {
                    self.line += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
                }
                let last = chunk.iter().rposition(|&b| b == b'\n').unwrap_or(first);
                self.run = n - last - 1;
            }
        }
        Ok(n)
    }
}

/// Collapses runs of spaces and tabs into one space; drops them at the
/// start and end of lines. Newlines pass through, so line numbers hold.
struct SqueezeBlanks<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    pending: bool,
    line_start: bool,
}

impl<R: Read> Read for SqueezeBlanks<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.len {
                if n > 0 {
                    break;
                }
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    break;
                }
            }
            let b = self.buf[self.pos];
            match b {
                b' ' | b'\t' => {
                    self.pending = !self.line_start;
                    self.pos += 1;
                }
                b'\n' | b'\r' => {
                    self.pending = false;
                    self.line_start = true;
                    out[n] = b;
                    n += 1;
                    self.pos += 1;
                }
                _ => {
                    if self.pending {
                        self.pending = false;
                        out[n] = b' ';
                        n += 1;
                        if n == out.len() {
                            break;
                        }
                    }
                    out[n] = b;
                    n += 1;
                    self.pos += 1;
                    self.line_start = false;
                }
            }
        }
        Ok(n)
    }
}

/// Looks at comment lines and the first data line: delimiter (comma,
/// semicolon, tab, else a space), header or not, rate and labels in comments.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = String::from_utf8_lossy(head);
    let mut rate_hz = None;
    let mut labels = Vec::new();
    let mut first = None;
    for line in text.lines() {
        let l = line.trim_start_matches('\u{feff}').trim();
        if let Some(c) = l.strip_prefix('#') {
            if let Some((k, v)) = c.split_once(":=").or_else(|| c.split_once(':')) {
                let k = k.trim().to_ascii_lowercase();
                if k.starts_with("sampling rate") || k.starts_with("sampling frequency") {
                    rate_hz = v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|f| *f > 0.0 && f.is_finite());
                } else if k == "labels" {
                    labels = v
                        .split(['\t', ','])
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect();
                }
            }
            continue;
        }
        if !l.is_empty() {
            first = Some(l.to_string());
            break;
        }
    }
    let first = first.unwrap_or_default();
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .filter(|d| first.bytes().any(|b| b == *d))
        .unwrap_or(b' ');
    let headerless = !first.is_empty()
        && first
            .split(delimiter as char)
            .filter(|f| !f.trim().is_empty())
            .all(|f| {
                let f = f.trim();
                f.parse::<f64>().is_ok() || sidecar::parse_datetime(f).is_some()
            });
    Sniff {
        delimiter,
        headerless,
        rate_hz,
        labels,
    }
}

/// The columns of a CSV file as mapped to channels: the time column, the
/// channel columns with their scaling, and the columns left out.
struct ColumnMap {
    time_field: Option<usize>,
    columns: Vec<Column>,
    channels: Vec<ChannelInfo>,
    /// `column N "name"` of each column left out, for the warning.
    ignored: Vec<String>,
}

/// A CSV reader over `path` with the sniffed delimiter and header setting.
fn csv_reader(
    path: &Path,
    sn: &Sniff,
    has_headers: bool,
) -> Result<csv::Reader<Box<dyn Read + Send>>> {
    Ok(csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .delimiter(sn.delimiter)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text_reader(path, sn.delimiter)?))
}

/// Refuses an empty file, then sniffs its first 8 KiB.
fn sniff_file(path: &Path, file: &File) -> Result<Sniff> {
    let mut head = Vec::with_capacity(8192);
    std::io::Read::by_ref(&mut &*file)
        .take(8192)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    Ok(sniff(&head))
}

/// Column names of a headerless file: a first column of increasing
/// seconds or date-times is time; the others take the `# Labels:=` names
/// or colN.
fn headerless_names(path: &Path, sn: &Sniff) -> Result<Vec<String>> {
    let mut probe = ByteRecord::new();
    let mut peek = csv_reader(path, sn, false)?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    while rows.len() < 3 && peek.read_byte_record(&mut probe).unwrap_or(false) {
        rows.push(
            probe
                .iter()
                .map(|f| String::from_utf8_lossy(trim(f)).into_owned())
                .collect(),
        );
    }
    let n = rows.first().map(|r| r.len()).unwrap_or(0);
    let first_col: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.first().map(|s| s.as_str()))
        .collect();
    let is_time = n >= 2
        && (first_col.iter().all(|f| f.parse::<f64>().is_err() && sidecar::parse_datetime(f).is_some())
            || (first_col.len() >= 2
                && first_col
                    .windows(2)
                    .all(|w| matches!((w[0].parse::<f64>(), w[1].parse::<f64>()), (Ok(a), Ok(b)) if b > a))
                && sn.rate_hz.is_none()));
    let mut names = Vec::with_capacity(n);
    let data_cols = if is_time { n - 1 } else { n };
    if is_time {
        names.push("time".to_string());
    }
    for k in 0..data_cols {
        names.push(if sn.labels.len() == data_cols {
            sn.labels[k].clone()
        } else {
            format!("col{}", names.len() + 1)
        });
    }
    Ok(names)
}

/// Column names from the header row (or made up for a headerless file),
/// refused when there are too many or all are empty.
fn column_names(
    path: &Path,
    sn: &Sniff,
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
) -> Result<Vec<String>> {
    let names: Vec<String> = if sn.headerless {
        headerless_names(path, sn)?
    } else {
        let header = reader
            .byte_headers()
            .map_err(|e| Error::input(path, format!("cannot read the header row: {e}")))?
            .clone();
        header
            .iter()
            .map(|h| {
                String::from_utf8_lossy(trim(h))
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect()
    };
    if names.len() > MAX_CSV_COLUMNS {
        return Err(Error::input(
            path,
            format!(
                "line 1: {} columns; expected at most {MAX_CSV_COLUMNS}",
                names.len()
            ),
        ));
    }
    if names.iter().all(|n| n.is_empty()) {
        return Err(Error::input(
            path,
            "line 1: empty header row; expected channel names",
        ));
    }
    Ok(names)
}

/// Maps the columns to the time column and channels: the sidecar gives
/// kind, unit and scaling, else the column name, else (with
/// `--channels`) EMG in µV; other columns are left out.
fn map_columns(
    path: &Path,
    names: &[String],
    sc: &sidecar::Sidecar,
    cfg: &Config,
) -> Result<ColumnMap> {
    let mut map = ColumnMap {
        time_field: None,
        columns: Vec::new(),
        channels: Vec::new(),
        ignored: Vec::new(),
    };
    let explicit = !cfg.channels.select.is_empty();
    for (i, name) in names.iter().enumerate() {
        if map.time_field.is_none() && TIME_COLUMNS.contains(&name.to_ascii_lowercase().as_str()) {
            map.time_field = Some(i);
            continue;
        }
        if explicit && !select::is_selected(&cfg.channels, name) {
            map.ignored
                .push(format!("column {} \"{name}\" (not in --channels)", i + 1));
            continue;
        }
        let (kind, unit, gain, offset, why) = match sc.channel(name) {
            Some(c) => (c.kind, c.units.clone(), c.gain, c.offset, "sidecar"),
            None => match kind_from_name(name) {
                Some((k, u)) => (k, u.to_string(), 1.0, 0.0, "column name"),
                None if explicit => (ChannelKind::Emg, "uV".to_string(), 1.0, 0.0, "--channels"),
                None => {
                    map.ignored.push(format!("column {} \"{name}\"", i + 1));
                    continue;
                }
            },
        };
        let why = if explicit { "--channels" } else { why };
        let unit_factor = checked_unit_scale(path, name, kind, &unit)?;
        map.columns.push(Column {
            field: i,
            name: name.clone(),
            scale: gain * unit_factor,
            offset: offset * unit_factor,
        });
        map.channels.push(ChannelInfo {
            name: name.clone(),
            kind,
            source_unit: unit,
            fs_hz: 0.0,
            selected_by: why.to_string(),
        });
    }
    super::bounds::check_channel_count(path, map.columns.len())?;
    if map.columns.is_empty() {
        return Err(Error::input(
            path,
            format!(
                "line 1: no channel columns among [{}]; expected names like emg_left_uv or acc_x_g, or a {}_channels.tsv sidecar",
                names.join(", "),
                path.file_stem().and_then(|s| s.to_str()).unwrap_or("<stem>")
            ),
        ));
    }
    Ok(map)
}

impl CsvSource {
    /// Opens a CSV or text file: sniffs its layout, maps its columns to
    /// channels, reads ahead the first rows, and fixes the sample rate and
    /// start time. Errors name the file and the line.
    pub fn open(path: &Path, cfg: &Config) -> Result<CsvSource> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(Error::input(
                path,
                "empty file; expected a header row naming the channels",
            ));
        }
        let sc = sidecar::load(path)?;
        let sn = sniff_file(path, &file)?;
        let mut reader = csv_reader(path, &sn, !sn.headerless)?;
        let names = column_names(path, &sn, &mut reader)?;
        let map = map_columns(path, &names, &sc, cfg)?;
        let mut warnings = Vec::new();
        if !map.ignored.is_empty() {
            warnings.push(format!(
                "ignored columns of unknown kind: {}",
                map.ignored.join(", ")
            ));
        }
        let mut src = CsvSource {
            info: RecordingInfo {
                path: path.to_path_buf(),
                format: "csv",
                fs_hz: 0.0,
                start_time: sc.start_time,
                channels: map.channels,
                warnings,
            },
            path: path.to_path_buf(),
            reader,
            record: ByteRecord::new(),
            n_fields: names.len(),
            columns: map.columns,
            time: None,
            t0_s: 0.0,
            start_iso: None,
            head: Vec::new(),
            head_pos: 0,
            prev_time_s: None,
            irregular: 0,
            first_irregular: None,
            done: false,
        };
        let times = src.read_ahead(map.time_field)?;
        let fs_hz = src.sample_rate(&times, &sc, &sn, cfg)?;
        src.settle_rate_and_start(fs_hz, &times);
        Ok(src)
    }

    /// Reads ahead the first rows (they fix the time format and the
    /// sample rate); returns their times, s, when there is a time column.
    fn read_ahead(&mut self, time_field: Option<usize>) -> Result<Vec<f64>> {
        let mut times = Vec::new();
        while self.head.len() < RATE_PROBE_ROWS {
            let Some(line) = self.next_record()? else {
                break;
            };
            if let Some(tf) = time_field {
                if self.time.is_none() {
                    let first = trim(&self.record[tf]);
                    let format = if fast_float2::parse::<f64, _>(first).is_ok() {
                        TimeFormat::Seconds
                    } else {
                        TimeFormat::Iso
                    };
                    self.time = Some((tf, format));
                }
                times.push(self.parse_time(line)?);
            }
            let mut row = vec![0f32; self.columns.len()];
            self.parse_row(line, &mut row)?;
            self.head.push((line, row));
        }
        if self.head.is_empty() {
            return Err(Error::input(
                &self.path,
                "no data rows after the header; expected at least one row of samples",
            ));
        }
        Ok(times)
    }

    /// The sample rate, Hz: from the median interval of the time column
    /// (which also sets the first sample's time), else the sidecar, the
    /// file's comments, or `--fs`.
    fn sample_rate(
        &mut self,
        times: &[f64],
        sc: &sidecar::Sidecar,
        sn: &Sniff,
        cfg: &Config,
    ) -> Result<f64> {
        let path = &self.path;
        if self.time.is_some() {
            if times.len() < 2 {
                return Err(Error::input(
                    path,
                    "only one data row: cannot infer the sample rate from the time column",
                ));
            }
            let mut diffs: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
            diffs.sort_by(f64::total_cmp);
            let dt = diffs[diffs.len() / 2];
            if !(dt.is_finite() && dt > 0.0) {
                return Err(Error::input(
                    path,
                    format!("time column: median interval is {dt} s; expected increasing times"),
                ));
            }
            self.t0_s = times[0];
            Ok(1.0 / dt)
        } else if let Some(fs) = sc
            .fs_hz
            .or_else(|| sc.channels.iter().find_map(|c| c.fs_hz))
            .or(sn.rate_hz)
        {
            Ok(fs)
        } else if cfg.input.fs_hz > 0.0 {
            Ok(cfg.input.fs_hz)
        } else {
            Err(Error::input(
                path,
                format!(
                    "no sample rate: expected a time column ({}), a sampling_frequency in the sidecar, or --fs",
                    TIME_COLUMNS.join(", ")
                ),
            ))
        }
    }

    /// Sets the rate of the file and its channels, the start time when the
    /// sidecar gave none (ISO times, else Unix seconds), and checks the
    /// intervals of the rows read ahead.
    fn settle_rate_and_start(&mut self, fs_hz: f64, times: &[f64]) {
        // Round an inferred rate to 1e-6 Hz so that float noise in the time
        // column does not leak into window lengths.
        let fs_hz = (fs_hz * 1e6).round() / 1e6;
        self.info.fs_hz = fs_hz;
        for c in &mut self.info.channels {
            c.fs_hz = fs_hz;
        }
        if self.start_iso.is_some() && self.info.start_time.is_none() {
            self.info.start_time = self.start_iso;
        }
        if self.info.start_time.is_none() {
            self.info.start_time = times.first().and_then(|&t0| unix_start(t0));
        }
        for (i, t) in times.iter().enumerate() {
            let line = self.head[i].0;
            self.check_interval(line, *t);
        }
    }

    /// Reads the next record; returns its line number, `None` at the end.
    fn next_record(&mut self) -> Result<Option<u64>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = self.record.position().map(|p| p.line()).unwrap_or(0);
                if self.record.len() != self.n_fields {
                    // A blank line or a lone trailing delimiter row is not data.
                    if self.record.len() == 1 && trim(&self.record[0]).is_empty() {
                        return self.next_record();
                    }
                    let line = line_of(
                        &self.path,
                        self.record.position().map_or(0, |p| p.byte()),
                        line,
                    );
                    return Err(Error::input(
                        &self.path,
                        format!(
                            "line {line}: {} fields; expected {} as in the header",
                            self.record.len(),
                            self.n_fields
                        ),
                    ));
                }
                Ok(Some(line))
            }
            Err(e) => {
                if let csv::ErrorKind::Io(io) = e.kind() {
                    // LineCap's message names the line itself.
                    return Err(Error::input(&self.path, io.to_string()));
                }
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Err(Error::input(&self.path, format!("line {line}: {e}")))
            }
        }
    }

    fn parse_time(&mut self, line: u64) -> Result<f64> {
        let (tf, format) = self.time.expect("time column known");
        let raw = trim(&self.record[tf]);
        let value = match format {
            TimeFormat::Seconds => fast_float2::parse::<f64, _>(raw)
                .ok()
                .filter(|t| t.is_finite()),
            TimeFormat::Iso => std::str::from_utf8(raw)
                .ok()
                .and_then(sidecar::parse_datetime)
                .map(|dt| {
                    let start = *self.start_iso.get_or_insert(dt);
                    (dt - start).num_nanoseconds().unwrap_or(i64::MAX) as f64 * 1e-9
                }),
        };
        let line = self
            .record
            .position()
            .map(|p| p.byte())
            .filter(|_| value.is_none())
            .map_or(line, |b| line_of(&self.path, b, line));
        value.ok_or_else(|| {
            Error::input(
                &self.path,
                format!(
                    "line {line}, column {} (time): expected {}, found \"{}\"",
                    tf + 1,
                    if format == TimeFormat::Seconds {
                        "a time in seconds"
                    } else {
                        "an ISO 8601 time"
                    },
                    String::from_utf8_lossy(raw)
                ),
            )
        })
    }

    fn parse_row(&self, line: u64, out: &mut [f32]) -> Result<()> {
        for (col, slot) in self.columns.iter().zip(out.iter_mut()) {
            let raw = trim(&self.record[col.field]);
            *slot = if raw.is_empty() {
                f32::NAN
            } else {
                match fast_float2::parse::<f64, _>(raw) {
                    Ok(v) => (v * col.scale + col.offset) as f32,
                    Err(_) => {
                        let line = self
                            .record
                            .position()
                            .map_or(line, |p| line_of(&self.path, p.byte(), line));
                        return Err(Error::input(
                            &self.path,
                            format!(
                                "line {line}, column {} ({}): expected a number, found \"{}\"",
                                col.field + 1,
                                col.name,
                                String::from_utf8_lossy(raw)
                            ),
                        ));
                    }
                }
            };
        }
        Ok(())
    }

    /// Counts intervals that differ from 1/fs by more than the tolerance.
    fn check_interval(&mut self, line: u64, t: f64) {
        if let Some(prev) = self.prev_time_s {
            let nominal = 1.0 / self.info.fs_hz;
            let dt = t - prev;
            if (dt - nominal).abs() > INTERVAL_TOLERANCE * nominal {
                self.irregular += 1;
                if self.first_irregular.is_none() {
                    self.first_irregular = Some((line, prev - self.t0_s, dt));
                }
            }
        }
        self.prev_time_s = Some(t);
    }

    fn finish_warnings(&mut self) {
        if let Some((line, at, dt)) = self.first_irregular {
            self.info.warnings.push(format!(
                "time column: {} irregular sample intervals or gaps (first at line {line}, t = {at:.3} s: {dt:.6} s instead of {:.6} s); samples are treated as contiguous",
                self.irregular,
                1.0 / self.info.fs_hz
            ));
        }
    }
}

impl SampleSource for CsvSource {
    fn info(&self) -> &RecordingInfo {
        &self.info
    }

    fn read_block(&mut self, block: &mut Block) -> Result<()> {
        block.len = 0;
        let cap = block.capacity();
        while self.head_pos < self.head.len() && block.len < cap {
            let row = &self.head[self.head_pos].1;
            for (c, v) in row.iter().enumerate() {
                block.data[[c, block.len]] = *v;
            }
            block.len += 1;
            self.head_pos += 1;
        }
        if self.head_pos == self.head.len() && !self.head.is_empty() {
            self.head = Vec::new();
            self.head_pos = 0;
        }
        let mut row = vec![0f32; self.columns.len()];
        while block.len < cap && !self.done && self.head.is_empty() {
            let Some(line) = self.next_record()? else {
                self.done = true;
                self.finish_warnings();
                break;
            };
            if self.time.is_some() {
                let t = self.parse_time(line)?;
                self.check_interval(line, t);
            }
            self.parse_row(line, &mut row)?;
            for (c, v) in row.iter().enumerate() {
                block.data[[c, block.len]] = *v;
            }
            block.len += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn read_all(src: &mut CsvSource) -> Result<Vec<Vec<f32>>> {
        let n = src.info().channels.len();
        let mut out = vec![Vec::new(); n];
        let mut block = Block::new(n, 3);
        loop {
            src.read_block(&mut block)?;
            if block.len == 0 {
                return Ok(out);
            }
            for (c, o) in out.iter_mut().enumerate() {
                o.extend_from_slice(block.channel(c));
            }
        }
    }

    #[test]
    fn time_column_gives_rate_and_units_scale() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "n.csv",
            "time,emg_a_mv,acc_x_g,note\n0.000,0.001,1.0,x\n0.004,0.002,1.0,y\n0.008,-0.001,0.5,z\n0.012,0,0,w\n0.016,0.5,0,v\n",
        );
        let mut src = CsvSource::open(&p, &Config::default()).unwrap();
        assert!((src.info().fs_hz - 250.0).abs() < 1e-9);
        assert_eq!(src.info().channels.len(), 2);
        assert!(src.info().warnings[0].contains("note"));
        let data = read_all(&mut src).unwrap();
        assert_eq!(data[0], vec![1.0, 2.0, -1.0, 0.0, 500.0]);
        assert_eq!(data[1], vec![1.0, 1.0, 0.5, 0.0, 0.0]);
    }

    #[test]
    fn line_cap_counts_lines_over_any_chunk_size() {
        let long = "9".repeat(MAX_CSV_LINE_BYTES + 1);
        let text = format!("a\nbb\n{long}\nc\n");
        for chunk in [7, 8192, MAX_CSV_LINE_BYTES + 100, 4 << 20] {
            let mut r = LineCap::new(text.as_bytes());
            let mut buf = vec![0u8; chunk];
            let e = loop {
                match r.read(&mut buf) {
                    Ok(0) => panic!("no error with chunks of {chunk}"),
                    Ok(_) => {}
                    Err(e) => break e.to_string(),
                }
            };
            assert!(e.starts_with("line 3: longer than"), "{chunk}: {e}");
        }
        let mut r = LineCap::new("x\ny\nz".as_bytes());
        let mut sink = Vec::new();
        std::io::copy(&mut r, &mut sink).unwrap();
        assert_eq!(r.line, 3);
    }

    #[test]
    fn gap_in_time_column_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "n.csv",
            "t,emg_uv\n0,1\n0.01,1\n0.02,1\n0.5,1\n0.51,1\n0.52,1\n",
        );
        let mut src = CsvSource::open(&p, &Config::default()).unwrap();
        read_all(&mut src).unwrap();
        let w = src.info().warnings.join(" ");
        assert!(w.contains("1 irregular") && w.contains("line 5"), "{w}");
    }

    #[test]
    fn non_numeric_cell_names_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::from("emg_left_uv,emg_right_uv\n");
        for _ in 0..2000 {
            body.push_str("1,2\n");
        }
        body.push_str("3,abc\n");
        let p = write(dir.path(), "n.csv", &body);
        let mut cfg = Config::default();
        cfg.input.fs_hz = 500.0;
        let mut src = CsvSource::open(&p, &cfg).unwrap();
        let e = read_all(&mut src).unwrap_err().to_string();
        assert!(
            e.contains("line 2002, column 2 (emg_right_uv): expected a number, found \"abc\""),
            "{e}"
        );
    }

    #[test]
    fn ragged_row_empty_and_header_only_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config {
            input: crate::config::InputConfig { fs_hz: 500.0 },
            ..Config::default()
        };
        let p = write(dir.path(), "a.csv", "emg_uv,emg2_uv\n1,2\n3\n");
        let e = CsvSource::open(&p, &cfg).err().unwrap().to_string();
        assert!(e.contains("line 3: 1 fields; expected 2"), "{e}");
        let p = write(dir.path(), "b.csv", "");
        let e = CsvSource::open(&p, &cfg).err().unwrap().to_string();
        assert!(e.contains("empty file"), "{e}");
        let p = write(dir.path(), "c.csv", "emg_uv\n");
        let e = CsvSource::open(&p, &cfg).err().unwrap().to_string();
        assert!(e.contains("no data rows"), "{e}");
        let p = write(dir.path(), "d.csv", "emg_uv\n1\n2\n");
        let e = CsvSource::open(&p, &Config::default())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no sample rate"), "{e}");
    }

    #[test]
    fn nan_and_empty_cells_become_non_finite() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "n.csv",
            "time,emg_uv\n0,1\n0.001,NaN\n0.002,\n0.003,inf\n",
        );
        let mut src = CsvSource::open(&p, &Config::default()).unwrap();
        let d = read_all(&mut src).unwrap();
        assert_eq!(d[0].iter().filter(|v| !v.is_finite()).count(), 3);
    }

    #[test]
    fn whitespace_aligned_columns_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "n.txt",
            "  time    emg_a_uv   acc_x_g\n  0.000     1.5      1.0  \n\t0.002  -2.0\t\t0.5\n  0.004   10.25     0.0\n",
        );
        let mut src = CsvSource::open(&p, &Config::default()).unwrap();
        assert!((src.info().fs_hz - 500.0).abs() < 1e-9);
        let data = read_all(&mut src).unwrap();
        assert_eq!(data[0], vec![1.5, -2.0, 10.25]);
        assert_eq!(data[1], vec![1.0, 0.5, 0.0]);
    }

    #[test]
    fn iso_timestamps_give_rate_and_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "n.csv",
            "timestamp,emg_uv\n2026-01-15T23:00:00.000,1\n2026-01-15T23:00:00.002,1\n2026-01-15T23:00:00.004,1\n",
        );
        let src = CsvSource::open(&p, &Config::default()).unwrap();
        assert!((src.info().fs_hz - 500.0).abs() < 1e-6);
        assert_eq!(
            src.info().start_time.unwrap().to_string(),
            "2026-01-15 23:00:00"
        );
    }

    #[test]
    fn unix_seconds_in_the_time_column_give_the_start() {
        let dir = tempfile::tempdir().unwrap();
        // 1767225600 s is 2026-01-01T00:00:00Z (issue 16: the start was lost).
        let p = write(
            dir.path(),
            "n.csv",
            "time,emg_uv\n1767225600.250,1\n1767225600.252,1\n1767225600.254,1\n",
        );
        let src = CsvSource::open(&p, &Config::default()).unwrap();
        // The rate comes from the median interval of values near 1.8e9 s,
        // whose f64 resolution is 2.4e-7 s: within 0.1 Hz of 500 Hz, not
        // exact (a known limit of Unix-second time columns).
        assert!(
            (src.info().fs_hz - 500.0).abs() < 0.1,
            "{}",
            src.info().fs_hz
        );
        assert_eq!(
            src.info().start_time.unwrap().to_string(),
            "2026-01-01 00:00:00.250"
        );
        // Seconds from the start give no clock.
        let p = write(dir.path(), "m.csv", "time,emg_uv\n0,1\n0.002,1\n0.004,1\n");
        let src = CsvSource::open(&p, &Config::default()).unwrap();
        assert_eq!(src.info().start_time, None);
    }
}
