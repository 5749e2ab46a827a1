//! Shared by the integration tests: real patch libraries made on the spot with rustc, symbol
//! offsets read with llvm-nm (an oracle independent of the runtime's own loader code), and a
//! tiny scripted HTTP server.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A fresh directory for this test process.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("whisker-hot-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `source` as a std-only cdylib named `lib<name>.so` in `dir`, for the architecture this
/// test runs on (an aarch64 test under QEMU loads aarch64 libraries), linked with cargo's
/// `CARGO_TARGET_<TRIPLE>_LINKER` when one is set.
pub fn compile_cdylib(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.rs"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(format!("lib{name}.so"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let target = whisker_hot::target_triple();
    let mut command = Command::new(rustc);
    command.args(["--target", &target]);
    let linker_variable = format!("CARGO_TARGET_{}_LINKER", target.to_uppercase().replace('-', "_"));
    if let Ok(linker) = std::env::var(linker_variable) {
        command.arg(format!("-Clinker={linker}"));
    }
    let status = command
        // No debug info: an 11 MB library takes QEMU tens of seconds to hash in a debug test build.
        .args(["--crate-type", "cdylib", "--edition", "2021", "-C", "opt-level=0", "-C", "strip=debuginfo", "--crate-name", name, "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "rustc failed for {name}");
    out
}

/// The `st_value` of `symbol` in `file`, as llvm-nm (or nm) prints it.
pub fn nm_address(file: &Path, symbol: &str) -> u64 {
    for tool in ["llvm-nm", "nm"] {
        let output = match Command::new(tool).arg("--defined-only").arg(file).output() {
            Ok(output) => output,
            Err(_) => continue,
        };
        let text = String::from_utf8_lossy(&output.stdout);
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() == 3 && fields[2] == symbol {
                return u64::from_str_radix(fields[0], 16).unwrap();
            }
        }
        panic!("{tool} does not list {symbol} in {}", file.display());
    }
    panic!("neither llvm-nm nor nm is installed");
}

/// An identity the optimiser cannot see through, so a call stays a real call (and a constant a
/// runtime value). `std::hint::black_box` would do, but it needs Rust 1.66 and the runtime's
/// tests must build on 1.63: a volatile read is opaque to the optimiser in the same way.
pub fn black_box<T>(value: T) -> T {
    // SAFETY: `value` is a valid, initialised `T`; the read moves it out and `forget` keeps the
    // original from being dropped a second time.
    let copy = unsafe { std::ptr::read_volatile(&value) };
    std::mem::forget(value);
    copy
}

/// Waits until `condition` holds, failing the test after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A request as the test server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the handler answers.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub chunked: bool,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply { status, body: body.as_bytes().to_vec(), chunked: false }
    }
}

/// A one-request-per-connection HTTP server on its own thread, recording every request.
pub struct TestServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    pub fn start(listener: TcpListener, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> TestServer {
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let stream = match stream {
                    Ok(stream) => stream,
                    Err(_) => continue,
                };
                let log = log.clone();
                let handler = handler.clone();
                std::thread::spawn(move || {
                    if let Some(request) = read_request(&stream) {
                        log.lock().unwrap().push(request.clone());
                        let reply = handler(&request);
                        let _ = write_reply(&stream, &reply);
                    }
                });
            }
        });
        TestServer { port, seen }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen { method, target, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn write_reply(mut stream: &TcpStream, reply: &Reply) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Whatever\r\nConnection: close\r\n", reply.status);
    if reply.chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        stream.write_all(head.as_bytes())?;
        for chunk in reply.body.chunks(1000) {
            stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
            stream.write_all(chunk)?;
            stream.write_all(b"\r\n")?;
        }
        stream.write_all(b"0\r\n\r\n")?;
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
        stream.write_all(head.as_bytes())?;
        stream.write_all(&reply.body)?;
    }
    stream.flush()
}

/// The `st_size` of `symbol` in `file`, as `llvm-nm -S` (or `nm -S`) prints it.
pub fn nm_size(file: &Path, symbol: &str) -> u64 {
    for tool in ["llvm-nm", "nm"] {
        let output = match Command::new(tool).arg("--defined-only").arg("-S").arg(file).output() {
            Ok(output) => output,
            Err(_) => continue,
        };
        let text = String::from_utf8_lossy(&output.stdout);
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() == 4 && fields[3] == symbol {
                return u64::from_str_radix(fields[1], 16).unwrap();
            }
        }
        panic!("{tool} lists no size for {symbol} in {}", file.display());
    }
    panic!("neither llvm-nm nor nm is installed");
}
