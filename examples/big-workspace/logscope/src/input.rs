//! Reading log files: plain or gzip-compressed (by magic bytes, not name), line by line, lossy
//! on invalid UTF-8 so one bad byte does not stop an analysis.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let io = |source| Error::Io { path: path.display().to_string(), source };
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let read = file.read(&mut magic).map_err(io)?;
    let file = File::open(path).map_err(io)?;
    if read == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(BufReader::new(file)))
    }
}

/// All lines of a file (a trailing `\r` is dropped).
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    let mut reader = open(path)?;
    let mut lines = Vec::new();
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        if read == 0 {
            break;
        }
        while matches!(buffer.last(), Some(b'\n') | Some(b'\r')) {
            buffer.pop();
        }
        lines.push(String::from_utf8_lossy(&buffer).into_owned());
    }
    Ok(lines)
}
