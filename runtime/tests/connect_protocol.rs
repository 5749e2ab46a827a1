//! `whisker_hot::connect()` against a scripted server speaking the device protocol: token,
//! registration, a forgotten device (404 → register again), a corrupted download (failed ack),
//! a chunked library download, apply, applied ack. The only test in this process, because it sets
//! environment variables and the jump table is process-wide.

mod support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{Reply, TestServer};

fn site(counter: &mut u64) -> impl FnMut() -> u64 + '_ {
    move || {
        *counter += 1;
        1
    }
}

const TOKEN: &str = "s3cret-token";

/// The number after `"key":` in a flat JSON text (the acks' fields are unique names).
fn number_after(text: &str, key: &str) -> f64 {
    let pattern = format!("\"{key}\":");
    let start = text.find(&pattern).unwrap_or_else(|| panic!("no {key} in {text}")) + pattern.len();
    let rest = &text[start..];
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')).unwrap_or(rest.len());
    rest[..end].parse().unwrap_or_else(|_| panic!("{key} is not a number in {text}"))
}

#[test]
fn connect_registers_downloads_applies_and_acks() {
    let test_started = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0;
    let dir = support::temp_dir("connect");
    let lib = support::compile_cdylib(
        &dir,
        "answer",
        "#[no_mangle]\npub fn answer(env: &mut &mut u64) -> u64 { **env += 100; 42 }\n",
    );
    let bytes = std::fs::read(&lib).unwrap();
    let sha = whisker_hot::sha256_hex(&bytes);
    let mut counter = 0u64;
    let key = whisker_hot::hot_fn_address(&site(&mut counter));
    let offset = support::nm_address(&lib, "answer");
    let table = |patch: u64| {
        format!(
            r#"{{"patchId": {patch}, "buildId": "b-test", "lib": "/server/side/libwhisker-patch-{patch}.so", "aslrReference": "{:#x}", "newBase": "library", "map": [["{key:#x}", "{offset:#x}"]]}}"#,
            whisker_hot::aslr_reference()
        )
    };
    let announcement = format!(
        r#"{{"patches": [
            {{"id": 2, "sha256": "{sha}", "libraryUrl": "/api/patches/2/library", "jumpTable": {}}},
            {{"id": 1, "sha256": "{}", "libraryUrl": "/api/patches/1/library", "jumpTable": {}}}]}}"#,
        table(2),
        "0".repeat(64),
        table(1)
    );

    let registrations = Arc::new(AtomicU64::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = {
        let registrations = registrations.clone();
        TestServer::start(listener, move |request| {
            if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return Reply::json(401, r#"{"error":{"code":"unauthorized","message":"missing token","hint":""}}"#);
            }
            let path = request.target.split('?').next().unwrap_or("");
            match (request.method.as_str(), path) {
                ("POST", "/api/devices") => {
                    let n = registrations.fetch_add(1, Ordering::SeqCst) + 1;
                    Reply::json(201, &format!(r#"{{"id": "d{n}", "name": "x"}}"#))
                }
                // The server "forgot" the first registration.
                ("GET", "/api/devices/d1/patches") => Reply::json(404, r#"{"error":{"code":"not_found","message":"no device d1","hint":""}}"#),
                ("GET", "/api/devices/d2/patches") if request.target.contains("after=0&") => Reply::json(200, &announcement),
                ("GET", "/api/devices/d2/patches") => {
                    std::thread::sleep(Duration::from_millis(300));
                    Reply::json(200, r#"{"patches": []}"#)
                }
                ("GET", "/api/patches/1/library") => Reply { status: 200, body: bytes.clone(), chunked: false },
                ("GET", "/api/patches/2/library") => Reply { status: 200, body: bytes.clone(), chunked: true },
                ("POST", "/api/devices/d2/acks") => Reply { status: 204, body: vec![], chunked: false },
                _ => Reply::json(404, r#"{"error":{"code":"not_found","message":"no route","hint":""}}"#),
            }
        })
    };

    // Without a server variable connect() does nothing (no thread, no requests).
    std::env::remove_var("WHISKER_DEV_SERVER");
    whisker_hot::connect();
    std::thread::sleep(Duration::from_millis(100));
    assert!(server.requests().is_empty());

    std::env::set_var("WHISKER_DEV_SERVER", format!("http://127.0.0.1:{}", server.port));
    std::env::set_var("WHISKER_DEV_TOKEN", TOKEN);
    std::env::set_var("WHISKER_DEVICE_NAME", "test-device");
    std::env::set_var("WHISKER_BUILD_ID", "b-test");
    whisker_hot::connect();
    whisker_hot::connect(); // a second call does not start a second session

    let acks = || -> Vec<String> {
        server.requests().into_iter().filter(|r| r.target.ends_with("/acks")).map(|r| r.body).collect()
    };
    support::wait_for("two acks", Duration::from_secs(30), || acks().len() >= 2);
    support::wait_for("a poll after patch 2", Duration::from_secs(10), || {
        server.requests().iter().any(|r| r.target.starts_with("/api/devices/d2/patches?after=2&wait=30"))
    });

    let acks = acks();
    assert_eq!(acks.len(), 2, "{acks:?}");
    assert!(acks[0].starts_with(r#"{"patch":1,"status":"failed","error":"sha256 mismatch for http://127.0.0.1:"#), "{}", acks[0]);
    assert!(acks[0].contains(&format!("got {sha}")), "{}", acks[0]);
    assert!(acks[0].contains(r#""fetch":"download""#), "a failed patch still reports its timings: {}", acks[0]);
    assert!(acks[1].starts_with(r#"{"patch":2,"status":"applied","receivedAt":"#), "{}", acks[1]);
    // The device's own timings: wall-clock instants in order and inside this test's run, and
    // the durations adding up to the total.
    let ack = &acks[1];
    let (received, applied) = (number_after(ack, "receivedAt"), number_after(ack, "appliedAt"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1000.0;
    assert!(test_started <= received && received <= applied && applied <= now, "{test_started} {received} {applied} {now}: {ack}");
    let parts: Vec<f64> = ["parseMs", "fetchMs", "loadMs", "applyMs"].iter().map(|key| number_after(ack, key)).collect();
    let total = number_after(ack, "totalMs");
    assert!(parts.iter().all(|&part| part >= 0.0), "{ack}");
    assert!(parts[1] > 0.0 && parts[2] > 0.0, "a download and a dlopen take time: {ack}");
    let sum: f64 = parts.iter().sum();
    assert!(sum <= total + 0.01 && total - sum < 50.0, "parts {sum} vs total {total}: {ack}");
    assert!((applied - received - total).abs() < 50.0, "wall clock and monotonic agree: {ack}");
    assert!(ack.ends_with(r#","fetch":"download"}}"#), "{ack}");
    assert_eq!(whisker_hot::patch_count(), 1);
    assert_eq!(whisker_hot::call(site(&mut counter)), 42);
    assert_eq!(counter, 100);

    let requests = server.requests();
    assert!(requests.iter().all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}")[..])));
    assert_eq!(registrations.load(Ordering::SeqCst), 2, "registered again after the 404");
    let registration = requests.iter().find(|r| r.method == "POST" && r.target == "/api/devices").unwrap();
    assert_eq!(registration.header("content-type"), Some("application/json"));
    let expected = format!(
        r#"{{"name":"test-device","pid":{},"triple":"{}","buildId":"b-test","aslrReference":"{:#x}"}}"#,
        std::process::id(),
        whisker_hot::target_triple(),
        whisker_hot::aslr_reference()
    );
    assert_eq!(registration.body, expected);
    let sessions = requests.iter().filter(|r| r.target.starts_with("/api/devices/d1/patches")).count();
    assert_eq!(sessions, 1, "one session only, despite two connect() calls");

    let _ = std::fs::remove_dir_all(dir);
}
