//! The LAN token goes to `WHISKER_DEV_SERVER`'s origin only: with two local listeners — the dev
//! server, which wants the token on everything, and another origin (another port) that a patch's
//! absolute `libraryUrl` names — `connect()` downloads from both, and only the server ever sees
//! `Authorization`. The only test in this process: it sets environment variables, and the jump
//! table is process-wide.

mod support;

use std::net::TcpListener;
use std::time::Duration;
use support::{Reply, TestServer};

const TOKEN: &str = "lan-t0ken-never-leaves";

fn site(counter: &mut u64) -> impl FnMut() -> u64 + '_ {
    move || {
        *counter += 1;
        1
    }
}

#[test]
fn the_token_goes_only_to_the_servers_origin() {
    let dir = support::temp_dir("token-scope");
    let lib = support::compile_cdylib(&dir, "answer", "#[no_mangle]\npub fn answer(env: &mut &mut u64) -> u64 { **env += 100; 42 }\n");
    let bytes = std::fs::read(&lib).unwrap();
    let sha = whisker_hot::sha256_hex(&bytes);
    let mut counter = 0u64;
    let key = whisker_hot::hot_fn_address(&site(&mut counter));
    let offset = support::nm_address(&lib, "answer");

    // The other origin: serves the library to anyone, and records who asked with what.
    let other = {
        let bytes = bytes.clone();
        TestServer::start(TcpListener::bind("127.0.0.1:0").unwrap(), move |_| Reply { status: 200, body: bytes.clone(), chunked: false })
    };
    let server_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_port = server_listener.local_addr().unwrap().port();
    let table = |patch: u64| {
        format!(
            r#"{{"patchId": {patch}, "buildId": "b-test", "lib": "/server/side/libwhisker-patch-{patch}.so", "aslrReference": "{:#x}", "newBase": "library", "map": [["{key:#x}", "{offset:#x}"]]}}"#,
            whisker_hot::aslr_reference()
        )
    };
    // Patch 1 comes from the other origin; patch 2 by an absolute URL of the server's own origin,
    // which is the server's and gets the token like a plain `/api/...` path.
    let announcement = format!(
        r#"{{"patches": [
            {{"id": 1, "sha256": "{sha}", "libraryUrl": "http://127.0.0.1:{}/cdn/libwhisker-patch-1.so", "jumpTable": {}}},
            {{"id": 2, "sha256": "{sha}", "libraryUrl": "http://127.0.0.1:{server_port}/api/patches/2/library", "jumpTable": {}}}]}}"#,
        other.port,
        table(1),
        table(2)
    );
    let server = {
        let bytes = bytes.clone();
        TestServer::start(server_listener, move |request| {
            if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                return Reply::json(401, r#"{"error":{"code":"unauthorized","message":"missing token","hint":""}}"#);
            }
            let path = request.target.split('?').next().unwrap_or("");
            match (request.method.as_str(), path) {
                ("POST", "/api/devices") => Reply::json(201, r#"{"id": "d1", "name": "x"}"#),
                ("GET", "/api/devices/d1/patches") if request.target.contains("after=0&") => Reply::json(200, &announcement),
                ("GET", "/api/devices/d1/patches") => {
                    std::thread::sleep(Duration::from_millis(300));
                    Reply::json(200, r#"{"patches": []}"#)
                }
                ("GET", "/api/patches/2/library") => Reply { status: 200, body: bytes.clone(), chunked: false },
                ("POST", _) => Reply { status: 204, body: vec![], chunked: false },
                _ => Reply::json(404, r#"{"error":{"code":"not_found","message":"no route","hint":""}}"#),
            }
        })
    };

    std::env::set_var("WHISKER_DEV_SERVER", format!("http://127.0.0.1:{server_port}"));
    std::env::set_var("WHISKER_DEV_TOKEN", TOKEN);
    std::env::set_var("WHISKER_DEVICE_NAME", "token-scope-test");
    std::env::set_var("WHISKER_BUILD_ID", "b-test");
    std::env::set_var("WHISKER_FORWARD_LOGS", "0");
    whisker_hot::connect();

    let acks = || -> Vec<String> { server.requests().into_iter().filter(|r| r.target.ends_with("/acks")).map(|r| r.body).collect() };
    support::wait_for("two acks", Duration::from_secs(30), || acks().len() >= 2);
    let acks = acks();
    assert!(acks[0].starts_with(r#"{"patch":1,"status":"applied""#), "the other origin's library was fetched and applied: {}", acks[0]);
    assert!(acks[1].starts_with(r#"{"patch":2,"status":"applied""#), "{}", acks[1]);
    assert_eq!(whisker_hot::call(site(&mut counter)), 42);

    let fetched = other.requests();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert_eq!(fetched[0].target, "/cdn/libwhisker-patch-1.so");
    assert_eq!(fetched[0].header("authorization"), None, "the other origin got the token: {:?}", fetched[0].headers);
    assert!(fetched.iter().all(|r| r.headers.iter().all(|(_, value)| !value.contains(TOKEN))), "the token appears nowhere in its requests");

    let own = server.requests();
    assert!(own.iter().any(|r| r.target == "/api/patches/2/library"), "patch 2 came from the server by its absolute URL");
    assert!(
        own.iter().all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}")[..])),
        "every request to the server carries the token: {own:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
