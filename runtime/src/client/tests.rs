//! Unit tests of the client's parts; the protocol end to end is in `tests/connect_*.rs`.

use super::ack::{Ack, Timings};
use super::backoff::Backoff;
use super::download::{create_private_dir, local_copy};
use super::session::{percent_encode, server_error};
use super::{env, target_triple, ConnectOptions};
use crate::http::{self, Url};
use crate::sha256::sha256_hex;
use std::collections::HashMap;
use std::time::Duration;

#[cfg(unix)]
#[test]
fn local_copy_loads_only_a_trusted_file_with_the_announced_checksum() {
    use std::os::unix::fs::PermissionsExt;
    let dir = create_private_dir().expect("private dir");
    let lib = dir.join("libwhisker-patch-1-abc.so");
    std::fs::write(&lib, b"not really a library").unwrap();
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
    let sum = sha256_hex(b"not really a library");
    let text = lib.to_str().unwrap();
    assert_eq!(local_copy(text, &sum), Some(lib.clone()));
    assert_eq!(local_copy(text, &sum.to_uppercase()), Some(lib.clone()));
    assert_eq!(local_copy(text, &sha256_hex(b"other bytes")), None, "checksum must match");
    assert_eq!(local_copy("libwhisker-patch-1-abc.so", &sum), None, "relative paths are never trusted");
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o664)).unwrap();
    assert_eq!(local_copy(text, &sum), None, "a group-writable file is not trusted");
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.join("link.so");
    std::os::unix::fs::symlink(&lib, &link).unwrap();
    assert_eq!(local_copy(link.to_str().unwrap(), &sum), None, "symlinks are not followed");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(local_copy(text, &sum), None, "a world-writable directory is not trusted");
    std::fs::remove_dir_all(&dir).unwrap();
}


#[test]
fn backoff_doubles_up_to_five_seconds_and_resets() {
    let mut backoff = Backoff::new();
    let delays: Vec<u64> = (0..8).map(|_| backoff.next_delay().as_millis() as u64).collect();
    assert_eq!(delays, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
    backoff.reset();
    assert_eq!(backoff.next_delay(), Duration::from_millis(250));
}

#[test]
fn options_come_from_the_environment_only_when_a_server_is_set() {
    let vars = |pairs: &[(&str, &str)]| {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name: &str| map.get(name).cloned()
    };
    assert!(ConnectOptions::from_lookup(vars(&[])).is_none());
    assert!(ConnectOptions::from_lookup(vars(&[(env::SERVER, "  ")])).is_none());
    let options = ConnectOptions::from_lookup(vars(&[
        (env::SERVER, "http://127.0.0.1:9630"),
        (env::TOKEN, "t0k"),
        (env::DEVICE_NAME, "phone"),
        (env::BUILD_ID, "b20260101-000000-abcdef"),
    ]))
    .unwrap();
    assert_eq!(options.server, "http://127.0.0.1:9630");
    assert_eq!(options.token.as_deref(), Some("t0k"));
    assert_eq!(options.device_name, "phone");
    assert_eq!(options.build_id.as_deref(), Some("b20260101-000000-abcdef"));
    assert!(!format!("{options:?}").contains("t0k"), "the token is not printed");
    let defaults = ConnectOptions::from_lookup(vars(&[(env::SERVER, "http://h:1")])).unwrap();
    assert_eq!(defaults.token, None);
    assert_eq!(defaults.build_id, None);
    assert!(!defaults.device_name.is_empty());
    assert!(defaults.forward_logs, "stdout and stderr are forwarded unless told otherwise");
    for off in ["0", "false", "OFF", " no "] {
        let options = ConnectOptions::from_lookup(vars(&[(env::SERVER, "http://h:1"), (env::FORWARD_LOGS, off)])).unwrap();
        assert!(!options.forward_logs, "{off:?}");
    }
    let on = ConnectOptions::from_lookup(vars(&[(env::SERVER, "http://h:1"), (env::FORWARD_LOGS, "1")])).unwrap();
    assert!(on.forward_logs);
}

#[test]
fn triple_names_this_host() {
    let triple = target_triple();
    assert!(triple.starts_with(std::env::consts::ARCH) || triple.starts_with("i686") || triple.starts_with("armv7"), "{triple}");
    if cfg!(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")) {
        assert_eq!(triple, "x86_64-unknown-linux-gnu");
    }
}

#[test]
fn server_errors_carry_message_hint_and_token_advice() {
    let url = Url::parse("http://127.0.0.1:1/api/devices").unwrap();
    let response = http::Response {
        status: 401,
        headers: vec![],
        body: br#"{"error":{"code":"unauthorized","message":"missing bearer token","hint":"pass the token"}}"#.to_vec(),
    };
    let err = server_error(&url, &response);
    assert_eq!(
        err.message(),
        "http://127.0.0.1:1/api/devices answered HTTP 401: missing bearer token (hint: pass the token); \
         set WHISKER_DEV_TOKEN to the token the server printed"
    );
    let response = http::Response { status: 500, headers: vec![], body: b"oops".to_vec() };
    assert!(server_error(&url, &response).message().ends_with("HTTP 500: oops"));
}

#[test]
fn acks_carry_the_device_timings_in_milliseconds() {
    let timings = Timings {
        received_at_ms: 1_764_050_100_123.25,
        applied_at_ms: 1_764_050_100_130.5,
        parse: Duration::from_micros(250),
        fetch: Duration::from_micros(3_100),
        load: Duration::from_micros(1_200),
        apply: Duration::from_micros(300),
        total: Duration::from_micros(4_900),
        fetch_kind: Some("local"),
    };
    let ack = Ack { patch: 3, error: None, timings: Some(timings.clone()) };
    assert_eq!(
        ack.json(),
        r#"{"patch":3,"status":"applied","receivedAt":1764050100123.250,"appliedAt":1764050100130.500,"timings":{"parseMs":0.250,"fetchMs":3.100,"loadMs":1.200,"applyMs":0.300,"totalMs":4.900,"fetch":"local"}}"#
    );
    let failed = Ack { patch: 4, error: Some("no \"lib\"".to_string()), timings: Some(Timings { fetch_kind: None, ..timings }) };
    assert!(failed.json().starts_with(r#"{"patch":4,"status":"failed","error":"no \"lib\"","receivedAt":"#), "{}", failed.json());
    assert!(failed.json().ends_with(r#""totalMs":4.900}}"#), "{}", failed.json());
    assert_eq!(Ack { patch: 5, error: None, timings: None }.json(), r#"{"patch":5,"status":"applied"}"#);
}

#[test]
fn device_ids_are_escaped_in_paths() {
    assert_eq!(percent_encode("d12-a_b.c~"), "d12-a_b.c~");
    assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
}

#[test]
fn download_dirs_are_private_and_unique() {
    let a = create_private_dir().unwrap();
    let b = create_private_dir().unwrap();
    assert_ne!(a, b);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o700);
    }
    let _ = std::fs::remove_dir(a);
    let _ = std::fs::remove_dir(b);
}
