//! A dead server: `connect_with` keeps the app alive, logs one line per failed attempt with a
//! growing delay, and once the server comes up registers, applies the waiting patch and acks.

mod support;

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{Reply, TestServer};
use whisker_hot::ConnectOptions;

fn site(counter: &mut u64) -> impl FnMut() -> u64 + '_ {
    move || {
        *counter += 1;
        1
    }
}

#[test]
fn retries_with_backoff_until_the_server_comes_up() {
    let dir = support::temp_dir("retry");
    let lib = support::compile_cdylib(&dir, "answer", "#[no_mangle]\npub fn answer(_env: &mut &mut u64) -> u64 { 42 }\n");
    let bytes = std::fs::read(&lib).unwrap();
    let mut counter = 0u64;
    let key = whisker_hot::hot_fn_address(&site(&mut counter));
    let offset = support::nm_address(&lib, "answer");

    // Reserve a port, then close it so the first attempts are refused.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let options = ConnectOptions::new(format!("http://127.0.0.1:{port}"))
        .device_name("retry-device")
        .poll_wait(Duration::from_secs(1))
        .log_with(move |line| sink.lock().unwrap().push(line.to_string()));
    let _session = whisker_hot::connect_with(options).unwrap();

    support::wait_for("three failure lines", Duration::from_secs(10), || lines.lock().unwrap().len() >= 3);
    let failures: Vec<String> = lines.lock().unwrap().iter().take(3).cloned().collect();
    for (line, delay) in failures.iter().zip(["250 ms", "500 ms", "1000 ms"]) {
        assert!(line.starts_with(&format!("whisker-hot: registering failed: POST http://127.0.0.1:{port}/api/devices: cannot connect to 127.0.0.1:{port}")), "{line}");
        assert!(line.ends_with(&format!("; retrying in {delay}")), "{line}");
    }

    let table = format!(
        r#"{{"patchId": 1, "lib": "/elsewhere.so", "aslrReference": "{:#x}", "map": [["{key:#x}", "{offset:#x}"]]}}"#,
        whisker_hot::aslr_reference()
    );
    let announcement = format!(
        r#"{{"patches": [{{"id": 1, "sha256": "{}", "libraryUrl": "http://127.0.0.1:{port}/api/patches/1/library", "jumpTable": {table}}}]}}"#,
        whisker_hot::sha256_hex(&bytes).to_uppercase()
    );
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the reserved port is still free");
    let server = TestServer::start(listener, move |request| match (request.method.as_str(), request.target.as_str()) {
        ("POST", "/api/devices") => Reply::json(201, r#"{"id": "d7"}"#),
        ("GET", "/api/devices/d7/patches?after=0&wait=1") => Reply::json(200, &announcement),
        ("GET", "/api/devices/d7/patches?after=1&wait=1") => {
            std::thread::sleep(Duration::from_millis(500));
            Reply::json(200, r#"{"patches": []}"#)
        }
        ("GET", "/api/patches/1/library") => Reply { status: 200, body: bytes.clone(), chunked: false },
        ("POST", "/api/devices/d7/acks") => Reply { status: 204, body: vec![], chunked: false },
        _ => Reply::json(404, r#"{"error":{"code":"not_found","message":"no route","hint":""}}"#),
    });

    support::wait_for("the applied ack", Duration::from_secs(20), || {
        server.requests().iter().any(|r| r.target == "/api/devices/d7/acks")
    });
    let ack = server.requests().into_iter().find(|r| r.target == "/api/devices/d7/acks").unwrap();
    assert!(ack.body.starts_with(r#"{"patch":1,"status":"applied","receivedAt":"#), "{}", ack.body);
    assert!(ack.body.contains(r#","timings":{"parseMs":"#), "{}", ack.body);
    assert_eq!(whisker_hot::call(site(&mut counter)), 42);

    let lines = lines.lock().unwrap().clone();
    assert!(lines.iter().all(|line| line.starts_with("whisker-hot: ")), "{lines:?}");
    assert!(lines.contains(&format!("whisker-hot: registered with http://127.0.0.1:{port} as device d7")), "{lines:?}");
    assert!(lines.iter().any(|line| line.starts_with("whisker-hot: applied patch 1 (1 functions, ")), "{lines:?}");
    let _ = std::fs::remove_dir_all(dir);
}
