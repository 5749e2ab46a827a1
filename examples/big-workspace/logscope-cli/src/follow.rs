//! `tail -F` for one file, or a directory of `*.log` files: each call returns the lines appended
//! since the last, and survives rotation (a new inode, or a file that shrank).

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

struct Tail {
    path: PathBuf,
    inode: u64,
    offset: u64,
    partial: String,
}

pub struct Follower {
    tails: Vec<Tail>,
}

impl Follower {
    /// Starts at the end of each file: only new lines count.
    pub fn open(path: &Path) -> Result<Follower> {
        let files: Vec<PathBuf> = if path.is_dir() {
            walkdir::WalkDir::new(path)
                .max_depth(2)
                .into_iter()
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.file_type().is_file() && entry.path().extension().map_or(false, |e| e == "log"))
                .map(|entry| entry.into_path())
                .collect()
        } else {
            vec![path.to_path_buf()]
        };
        let mut tails = Vec::new();
        for file in files {
            let metadata = std::fs::metadata(&file).with_context(|| format!("cannot follow {}", file.display()))?;
            tails.push(Tail { path: file, inode: metadata.ino(), offset: metadata.len(), partial: String::new() });
        }
        Ok(Follower { tails })
    }

    pub fn new_lines(&mut self) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        for tail in &mut self.tails {
            let Ok(metadata) = std::fs::metadata(&tail.path) else { continue };
            if metadata.ino() != tail.inode || metadata.len() < tail.offset {
                tail.inode = metadata.ino();
                tail.offset = 0;
                tail.partial.clear();
            }
            if metadata.len() == tail.offset {
                continue;
            }
            let mut file = File::open(&tail.path).with_context(|| format!("cannot read {}", tail.path.display()))?;
            file.seek(SeekFrom::Start(tail.offset))?;
            let mut reader = BufReader::new(file);
            loop {
                let mut line = String::new();
                let read = reader.read_line(&mut line)?;
                if read == 0 {
                    break;
                }
                tail.offset += read as u64;
                if !line.ends_with('\n') {
                    tail.partial.push_str(&line);
                    break;
                }
                let mut full = std::mem::take(&mut tail.partial);
                full.push_str(line.trim_end_matches(['\n', '\r']));
                lines.push(full);
            }
        }
        Ok(lines)
    }
}
