//! Writing the simulated samples (CSV, WAV, EDF) and their sidecars.

use super::*;

pub(super) enum Sink {
    Csv(BufWriter<std::fs::File>),
    Wav(hound::WavWriter<BufWriter<std::fs::File>>),
    Edf(crate::io::edf_write::EdfWriter),
}

impl Sink {
    pub(super) fn csv(path: &Path, header: &str) -> Result<Sink> {
        let f = std::fs::File::create(path).map_err(|e| Error::output(path, e))?;
        let mut w = BufWriter::new(f);
        writeln!(w, "{header}").map_err(|e| Error::output(path, e))?;
        Ok(Sink::Csv(w))
    }

    pub(super) fn wav(path: &Path, channels: u16, fs: f64) -> Result<Sink> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: fs.round() as u32,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let w = hound::WavWriter::create(path, spec)
            .map_err(|e| Error::output(path, std::io::Error::other(e.to_string())))?;
        Ok(Sink::Wav(w))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn edf(
        path: &Path,
        names: &[&str],
        unit: &str,
        range: (f64, f64),
        fs: f64,
        start: &str,
        annotations: &[crate::io::edf::Annotation],
        duration_s: f64,
    ) -> Result<Sink> {
        let signals = names
            .iter()
            .map(|n| crate::io::edf_write::WriteSignal {
                label: n.to_string(),
                unit: unit.into(),
                physical_min: range.0,
                physical_max: range.1,
                digital_min: -32768,
                digital_max: 32767,
            })
            .collect();
        let start = crate::io::sidecar::parse_datetime(start)
            .ok_or_else(|| Error::Config(format!("bad start time {start}")))?;
        Ok(Sink::Edf(crate::io::edf_write::EdfWriter::create(
            path,
            signals,
            fs,
            start,
            annotations,
            duration_s,
        )?))
    }

    pub(super) fn row(
        &mut self,
        path: &Path,
        t: f64,
        values: &[f64],
        decimals: usize,
        gain: f64,
    ) -> Result<()> {
        match self {
            Sink::Csv(w) => {
                let mut line = format!("{t:.4}");
                for v in values {
                    line.push_str(&format!(",{v:.decimals$}"));
                }
                writeln!(w, "{line}").map_err(|e| Error::output(path, e))
            }
            Sink::Edf(w) => w.push_frame(values),
            Sink::Wav(w) => {
                for v in values {
                    let c = (v / gain).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16;
                    w.write_sample(c)
                        .map_err(|e| Error::output(path, std::io::Error::other(e.to_string())))?;
                }
                Ok(())
            }
        }
    }

    pub(super) fn finish(self, path: &Path) -> Result<()> {
        match self {
            Sink::Csv(mut w) => w.flush().map_err(|e| Error::output(path, e)),
            Sink::Edf(w) => w.finish(),
            Sink::Wav(w) => w
                .finalize()
                .map_err(|e| Error::output(path, std::io::Error::other(e.to_string()))),
        }
    }
}

pub(super) fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::output(path, e))
}

/// Sidecars: start time for each file, channel tables for WAV (an EDF
/// header carries both).
pub(super) fn write_sidecars(
    opts: &SimOptions,
    files: &[(&PathBuf, f64)],
    start: &str,
    emg_path: &Path,
    acc_path: Option<&PathBuf>,
) -> Result<()> {
    if opts.format == Format::Edf {
        return Ok(());
    }
    let fs = opts.emg_fs_hz;
    let afs = opts.acc_fs_hz;
    for &(path, fs) in files {
        let json = crate::io::sidecar::sibling(path, ".json");
        write_text(
            &json,
            &format!("{{\"start_time\": \"{start}\", \"sampling_frequency\": {fs}}}\n"),
        )?;
    }
    if opts.format == Format::Wav {
        let mut tsv = String::from("name\ttype\tunits\tsampling_frequency\tgain\toffset\n");
        for c in EMG_CHANNELS {
            tsv.push_str(&format!("{c}\tEMG\tuV\t{fs}\t{WAV_EMG_GAIN_UV}\t0\n"));
        }
        write_text(
            &crate::io::sidecar::sibling(emg_path, "_channels.tsv"),
            &tsv,
        )?;
        let Some(acc_path) = acc_path else {
            return Ok(());
        };
        let mut tsv = String::from("name\ttype\tunits\tsampling_frequency\tgain\toffset\n");
        for c in ACC_CHANNELS {
            tsv.push_str(&format!("{c}\tACCEL\tg\t{afs}\t{WAV_ACC_GAIN_G}\t0\n"));
        }
        write_text(
            &crate::io::sidecar::sibling(acc_path, "_channels.tsv"),
            &tsv,
        )?;
    }
    Ok(())
}
