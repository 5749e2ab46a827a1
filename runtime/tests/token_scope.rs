//! The bearer token is the dev server's: a patch whose `libraryUrl` names another host (a CDN, a
//! second machine) is downloaded without it. Its own process: `connect()` is process-wide.

mod support;

use std::net::TcpListener;
use std::time::Duration;
use support::{Reply, TestServer};

const TOKEN: &str = "never-leaves-its-server";

fn site() -> u64 {
    1
}

#[test]
fn a_library_on_another_host_is_fetched_without_the_token() {
    let dir = support::temp_dir("token-scope");
    let lib = support::compile_cdylib(&dir, "answer", "#[no_mangle]\npub fn answer(_: &mut fn() -> u64) -> u64 { 42 }\n");
    let bytes = std::fs::read(&lib).unwrap();
    let sha = whisker_hot::sha256_hex(&bytes);
    let key = whisker_hot::hot_fn_address(&(site as fn() -> u64));
    let offset = support::nm_address(&lib, "answer");

    let elsewhere = TestServer::start(TcpListener::bind("127.0.0.1:0").unwrap(), move |_| Reply { status: 200, body: bytes.clone(), chunked: false });
    let table = format!(
        r#"{{"patchId": 1, "buildId": "b", "lib": "/not/here.so", "aslrReference": "{:#x}", "newBase": "library", "map": [["{key:#x}", "{offset:#x}"]]}}"#,
        whisker_hot::aslr_reference()
    );
    let announcement = format!(
        r#"{{"patches": [{{"id": 1, "sha256": "{sha}", "libraryUrl": "http://127.0.0.1:{}/libs/answer.so", "jumpTable": {table}}}]}}"#,
        elsewhere.port
    );
    let server = TestServer::start(TcpListener::bind("127.0.0.1:0").unwrap(), move |request| {
        if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return Reply::json(401, r#"{"error":{"code":"unauthorized","message":"missing token"}}"#);
        }
        match (request.method.as_str(), request.target.split('?').next().unwrap_or("")) {
            ("POST", "/api/devices") => Reply::json(201, r#"{"id": "d1"}"#),
            ("GET", "/api/devices/d1/patches") if request.target.contains("after=0&") => Reply::json(200, &announcement),
            ("GET", "/api/devices/d1/patches") => {
                std::thread::sleep(Duration::from_millis(300));
                Reply::json(200, r#"{"patches": []}"#)
            }
            ("POST", "/api/devices/d1/acks") => Reply { status: 204, body: vec![], chunked: false },
            _ => Reply::json(404, r#"{"error":{"code":"not_found","message":"no route"}}"#),
        }
    });

    std::env::set_var("WHISKER_DEV_SERVER", format!("http://127.0.0.1:{}", server.port));
    std::env::set_var("WHISKER_DEV_TOKEN", TOKEN);
    whisker_hot::connect();
    let acks = || server.requests().into_iter().filter(|r| r.target.ends_with("/acks")).map(|r| r.body).collect::<Vec<_>>();
    support::wait_for("an ack", Duration::from_secs(30), || !acks().is_empty());

    assert!(acks()[0].starts_with(r#"{"patch":1,"status":"applied""#), "{:?}", acks());
    let fetched = elsewhere.requests();
    assert_eq!(fetched.len(), 1, "one download from the other host");
    assert_eq!(fetched[0].header("authorization"), None, "the token stayed with its server");
    assert!(server.requests().iter().all(|r| r.header("authorization").is_some()), "the server itself always gets it");
    let _ = std::fs::remove_dir_all(dir);
}
