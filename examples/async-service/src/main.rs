//! An async HTTP/JSON service on tokio + hyper, hot-patchable with Whisker.
//!
//! Every request is answered by `routes::handle`, called through `whisker_hot::call`, so editing
//! a handler (the greeting, a JSON body, a new route) changes what the *running* server answers;
//! the request counter and the per-route statistics in [`AppState`] keep counting across patches.
//!
//! stdout (one line each, flushed): `whisker: aslr_reference=0x<hex>`, `whisker: pid=<pid>`,
//! `listening on http://<addr>`, then one access-log line per request.
//!
//! Environment: `ASYNC_SERVICE_ADDR` (default `127.0.0.1:0`, i.e. any free port), plus
//! whisker-hot's `WHISKER_DEV_SERVER` & co. for `connect()`. Each stdin line may name a
//! JumpTable file to apply (`whisker-dev patch --jump-table-out`), for use without a server.

mod routes;
mod state;

use std::convert::Infallible;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};

use crate::routes::Incoming;
use crate::state::AppState;

const DEFAULT_ADDR: &str = "127.0.0.1:0";

pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Reads the whole request, then lets the hot-patchable router answer it.
async fn serve(state: Arc<AppState>, request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match hyper::body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(err) => {
            return Ok(Response::builder()
                .status(400)
                .body(Body::from(format!("cannot read the request body: {err}\n")))
                .expect("static response"));
        }
    };
    let incoming = Incoming::new(&parts, &body);
    let response = whisker_hot::call(|| routes::handle(&state, &incoming));
    say(&format!(
        "{} {} {} (request {})",
        incoming.method,
        incoming.path,
        response.status().as_u16(),
        state.requests()
    ));
    Ok(response)
}

fn apply_jump_tables_from_stdin() {
    let _ = std::thread::Builder::new().name("jump-tables".into()).spawn(|| {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let path = line.trim();
            if path.is_empty() {
                continue;
            }
            let outcome = std::fs::read_to_string(path)
                .map_err(|err| err.to_string())
                .and_then(|json| whisker_hot::apply_json(&json).map_err(|err| err.to_string()));
            match outcome {
                Ok(()) => say(&format!("whisker: applied patch {}", whisker_hot::patch_count())),
                Err(err) => say(&format!("whisker: patch failed: {err}")),
            }
        }
    });
}

#[tokio::main]
async fn main() {
    say(&format!("whisker: aslr_reference={:#x}", whisker_hot::aslr_reference()));
    say(&format!("whisker: pid={}", std::process::id()));
    whisker_hot::connect();
    apply_jump_tables_from_stdin();

    let addr_text = std::env::var("ASYNC_SERVICE_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_string());
    let addr: SocketAddr = match addr_text.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("async-service: ASYNC_SERVICE_ADDR={addr_text:?} is not an address: {err}");
            std::process::exit(2);
        }
    };

    let state = Arc::new(AppState::new());
    let make_service = make_service_fn({
        let state = state.clone();
        move |_connection| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(service_fn(move |request| serve(state.clone(), request))) }
        }
    });

    let server = match Server::try_bind(&addr) {
        Ok(builder) => builder.serve(make_service),
        Err(err) => {
            eprintln!("async-service: cannot listen on {addr}: {err}");
            std::process::exit(1);
        }
    };
    say(&format!("listening on http://{}", server.local_addr()));

    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(err) = server.with_graceful_shutdown(shutdown).await {
        eprintln!("async-service: server error: {err}");
        std::process::exit(1);
    }
    say(&format!("shutting down after {} requests", state.requests()));
}
