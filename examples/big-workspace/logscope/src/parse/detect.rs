//! Which format a file is in: each parser tries a sample of lines; the one that reads most wins.

use rayon::prelude::*;

use super::Format;

#[derive(Clone, Debug)]
pub struct Detection {
    pub format: Format,
    /// Share of the sample's non-empty lines the winning parser read, 0–1.
    pub confidence: f64,
    pub sampled: usize,
}

/// Tries every structured format on up to `sample` non-empty lines.
pub fn detect<S: AsRef<str> + Sync>(lines: &[S], sample: usize) -> Detection {
    let picked: Vec<&str> = lines.iter().map(AsRef::as_ref).filter(|l| !l.trim().is_empty()).take(sample.max(1)).collect();
    if picked.is_empty() {
        return Detection { format: Format::Plain, confidence: 0.0, sampled: 0 };
    }
    let candidates = [Format::JsonLines, Format::Combined, Format::Syslog, Format::Logfmt];
    let scores: Vec<(Format, usize)> = candidates
        .par_iter()
        .map(|format| {
            let read = picked.iter().enumerate().filter(|(i, line)| format.parse(line, i + 1).is_ok()).count();
            (*format, read)
        })
        .collect();
    // Ties go to the earlier, stricter format (JSON before logfmt: `{"a":1}` is no logfmt anyway).
    let (format, read) = scores.iter().fold((Format::Plain, 0), |best, &(format, read)| if read > best.1 { (format, read) } else { best });
    let confidence = read as f64 / picked.len() as f64;
    if confidence < 0.5 {
        return Detection { format: Format::Plain, confidence: 1.0 - confidence, sampled: picked.len() };
    }
    Detection { format, confidence, sampled: picked.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format() {
        let json = [r#"{"level":"info","msg":"a"}"#, r#"{"level":"warn","msg":"b"}"#];
        assert_eq!(detect(&json, 10).format, Format::JsonLines);
        let logfmt = ["level=info msg=a n=1", "level=warn msg=b n=2"];
        assert_eq!(detect(&logfmt, 10).format, Format::Logfmt);
        let plain = ["just words here", "and more words"];
        assert_eq!(detect(&plain, 10).format, Format::Plain);
    }
}
