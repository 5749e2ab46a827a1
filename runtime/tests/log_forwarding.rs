//! Log forwarding in real processes: each case runs this test binary again as a child (the
//! `child` test, which does nothing unless `LOG_CHILD` says what to do), because forwarding puts a
//! pipe under the process's fds 1 and 2. The parent reads the child's own stdout and stderr (the
//! tee) and a scripted server the lines (`POST /api/devices/{id}/logs`); with the server gone or
//! stuck, printing is not slowed and nothing blocks.

mod support;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Reply, TestServer};

const LINES: usize = 20_000;

/// The child: connects as `LOG_CHILD` says, prints, reports how long printing took.
#[test]
fn child() {
    let mode = match std::env::var("LOG_CHILD") {
        Ok(mode) => mode,
        Err(_) => return,
    };
    if mode == "probe" {
        return;
    }
    let server = std::env::var("LOG_SERVER").expect("LOG_SERVER");
    let options = whisker_hot::ConnectOptions::new(server).forward_logs(mode != "off").poll_wait(Duration::from_secs(1));
    whisker_hot::connect_with(options).expect("connect");
    // Not print!: the test harness captures that; these go to fds 1 and 2 like an app's.
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    if mode == "order" {
        std::thread::sleep(Duration::from_millis(300)); // registered by then
        for n in 0..50 {
            writeln!(out, "out {n}").unwrap();
            writeln!(err, "err {n}").unwrap();
        }
        write!(out, "a prompt> ").unwrap();
        out.flush().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        return;
    }
    // Registered by then, so a stuck server holds the sender in a request while the app prints.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    for n in 0..LINES {
        writeln!(out, "line {n} of the child's output, long enough to be a realistic log line").unwrap();
    }
    out.flush().unwrap();
    writeln!(err, "printing took {} us", started.elapsed().as_micros()).unwrap();
}

/// Runs the `child` test in a new process; its stdout, its stderr and how long it ran. With
/// `shared`, its stderr is its stdout (`2>&1`), as on a terminal.
fn run_child(mode: &str, server: &str) -> (String, String, Duration) {
    run_child_with(mode, server, false)
}

fn run_child_with(mode: &str, server: &str, shared: bool) -> (String, String, Duration) {
    let started = Instant::now();
    let exe = std::env::current_exe().unwrap();
    let mut command = if shared {
        let mut command = Command::new("sh");
        command.arg("-c").arg("exec \"$0\" --exact child --nocapture --test-threads 1 2>&1").arg(exe);
        command
    } else {
        let mut command = Command::new(exe);
        command.args(["--exact", "child", "--nocapture", "--test-threads", "1"]);
        command
    };
    let mut child = command
        .env("LOG_CHILD", mode)
        .env("LOG_SERVER", server)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes while waiting: a full pipe would block the child for the wrong reason.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
        text
    });
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    let stdout = reader.join().unwrap();
    assert!(status.success(), "child {mode} failed: {status}\n{stderr}");
    (stdout, stderr, started.elapsed())
}

/// Whether this binary can run itself as a child here: under a user-mode emulator without binfmt
/// (`scripts/test.sh`'s aarch64 run under `qemu-aarch64`) it can't, and these tests say so.
fn children_run() -> bool {
    let ok = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--test-threads", "1"])
        .env("LOG_CHILD", "probe")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("log_forwarding: skipped, this test binary cannot start itself here (an emulator without binfmt)");
    }
    ok
}

fn printing_time(stderr: &str) -> Duration {
    let line = stderr.lines().find(|line| line.starts_with("printing took ")).unwrap_or_else(|| panic!("no timing in {stderr}"));
    Duration::from_micros(line["printing took ".len()..].trim_end_matches(" us").parse().unwrap())
}

fn scripted_server(slow_logs: bool) -> TestServer {
    TestServer::start(TcpListener::bind("127.0.0.1:0").unwrap(), move |request| {
        match (request.method.as_str(), request.target.split('?').next().unwrap_or("")) {
            ("POST", "/api/devices") => Reply::json(201, r#"{"id": "d1"}"#),
            ("GET", "/api/devices/d1/patches") => {
                std::thread::sleep(Duration::from_millis(500));
                Reply::json(200, r#"{"patches": []}"#)
            }
            ("POST", "/api/devices/d1/logs") => {
                if slow_logs {
                    std::thread::sleep(Duration::from_secs(2));
                }
                Reply { status: 204, body: vec![], chunked: false }
            }
            _ => Reply::json(404, r#"{"error":{"code":"not_found","message":"no route","hint":""}}"#),
        }
    })
}

#[test]
fn lines_reach_the_server_in_order_and_the_terminal_still_shows_them() {
    if !children_run() {
        return;
    }
    let server = scripted_server(false);
    let (stdout, stderr, _) = run_child("order", &format!("http://127.0.0.1:{}", server.port));
    for n in 0..50 {
        assert!(stdout.contains(&format!("out {n}\n")), "the child's own stdout has it: {stdout}");
        assert!(stderr.contains(&format!("err {n}\n")), "the child's own stderr has it: {stderr}");
    }
    assert!(stdout.contains("a prompt> "), "{stdout}");
    let mut sent: Vec<(String, String)> = Vec::new();
    for request in server.requests().iter().filter(|r| r.target == "/api/devices/d1/logs") {
        assert!(request.body.ends_with(r#"],"dropped":0}"#), "nothing dropped: {}", request.body);
        for item in request.body.split("{\"stream\":\"").skip(1) {
            let stream = item.split('"').next().unwrap().to_string();
            let text = item.split("\"text\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
            sent.push((stream, text));
        }
    }
    let texts = |stream: &str| sent.iter().filter(|(s, _)| s == stream).map(|(_, t)| t.clone()).collect::<Vec<_>>();
    let outs: Vec<String> = texts("stdout").into_iter().filter(|t| t.starts_with("out ")).collect();
    let errs: Vec<String> = texts("stderr").into_iter().filter(|t| t.starts_with("err ")).collect();
    assert_eq!(outs, (0..50).map(|n| format!("out {n}")).collect::<Vec<_>>(), "{sent:?}");
    assert_eq!(errs, (0..50).map(|n| format!("err {n}")).collect::<Vec<_>>(), "{sent:?}");
    assert!(texts("stdout").contains(&"a prompt> ".to_string()), "an unfinished line goes out after a pause: {sent:?}");
}

#[test]
fn with_stdout_and_stderr_on_one_file_lines_stay_whole() {
    if !children_run() {
        return;
    }
    let server = scripted_server(false);
    let (stdout, _, _) = run_child_with("order", &format!("http://127.0.0.1:{}", server.port), true);
    // `writeln!` on stderr makes a write per piece; teed line by line, nothing lands inside it.
    let ours: Vec<&str> = stdout.lines().filter(|line| line.contains("out ") || line.contains("err ")).collect();
    for n in 0..50 {
        assert!(ours.contains(&format!("out {n}").as_str()), "{stdout}");
        assert!(ours.contains(&format!("err {n}").as_str()), "{stdout}");
    }
}

#[test]
fn with_the_server_gone_or_stuck_printing_runs_at_full_speed() {
    if !children_run() {
        return;
    }
    // A port nobody listens on: the server is stopped.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let stopped = format!("http://127.0.0.1:{closed}");
    let stuck = scripted_server(true);
    let stuck_url = format!("http://127.0.0.1:{}", stuck.port);

    // Twice each, the best of two: the machine is shared, timings wobble.
    let best = |mode: &str, server: &str| {
        (0..2)
            .map(|_| {
                let (stdout, stderr, total) = run_child(mode, server);
                assert_eq!(stdout.matches(" of the child's output").count(), LINES, "every line reached the terminal");
                assert!(total < Duration::from_secs(30), "{mode} did not finish promptly: {total:?}");
                printing_time(&stderr)
            })
            .min()
            .unwrap()
    };
    let off = best("off", &stopped);
    let on_stopped = best("on", &stopped);
    let on_stuck = best("on", &stuck_url);
    eprintln!("{LINES} lines: forwarding off {off:?}, on with the server stopped {on_stopped:?}, on with it stuck {on_stuck:?}");
    // Generous: the pipe and the tee cost a copy per write, not a network round trip per line.
    let limit = off * 4 + Duration::from_millis(500);
    assert!(on_stopped < limit, "stopped server: {on_stopped:?} vs {off:?} without forwarding");
    assert!(on_stuck < limit, "stuck server: {on_stuck:?} vs {off:?} without forwarding");
    // The stuck server was sent lines (and held the sender) while the app printed.
    let bodies: Vec<String> = stuck.requests().into_iter().filter(|r| r.target == "/api/devices/d1/logs").map(|r| r.body).collect();
    assert!(!bodies.is_empty());
}
