//! Log forwarding inside the test process itself (its own file: it puts pipes under this
//! process's fds 1 and 2), so it also runs where `tests/log_forwarding.rs` cannot start children
//! (aarch64 under user-mode QEMU): lines written to fds 1 and 2 reach a scripted server in order.

mod support;

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;
use support::{Reply, TestServer};

#[test]
fn lines_written_to_fds_1_and_2_are_posted_in_order() {
    let server = TestServer::start(TcpListener::bind("127.0.0.1:0").unwrap(), |request| {
        match (request.method.as_str(), request.target.split('?').next().unwrap_or("")) {
            ("POST", "/api/devices") => Reply::json(201, r#"{"id": "d9"}"#),
            ("GET", "/api/devices/d9/patches") => {
                std::thread::sleep(Duration::from_millis(300));
                Reply::json(200, r#"{"patches": []}"#)
            }
            ("POST", "/api/devices/d9/logs") => Reply { status: 204, body: vec![], chunked: false },
            _ => Reply::json(404, r#"{"error":{"code":"not_found","message":"no route","hint":""}}"#),
        }
    });
    let options = whisker_hot::ConnectOptions::new(format!("http://127.0.0.1:{}", server.port)).log_with(|_| {});
    whisker_hot::connect_with(options).unwrap();
    // Not println!: the harness captures that; these go to the fds, as an app's output does.
    for n in 0..20 {
        writeln!(std::io::stdout(), "in-process out {n}").unwrap();
        writeln!(std::io::stderr(), "in-process err {n}").unwrap();
    }
    let texts = || -> Vec<String> {
        let mut texts = Vec::new();
        for request in server.requests().iter().filter(|r| r.target == "/api/devices/d9/logs") {
            for item in request.body.split("\"text\":\"").skip(1) {
                texts.push(item.split('"').next().unwrap_or("").to_string());
            }
        }
        texts
    };
    support::wait_for("forwarded lines", Duration::from_secs(20), || texts().iter().filter(|t| t.starts_with("in-process ")).count() >= 40);
    let texts = texts();
    for stream in ["out", "err"] {
        let ours: Vec<String> = texts.iter().filter(|t| t.starts_with(&format!("in-process {stream} "))).cloned().collect();
        assert_eq!(ours, (0..20).map(|n| format!("in-process {stream} {n}")).collect::<Vec<_>>());
    }
}
