//! A tiny HTTP endpoint with the last tick's summary as JSON (for a dashboard or `curl`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Response, Server, StatusCode};
use logscope::TickSummary;

pub async fn serve(addr: &str, last: Arc<Mutex<Option<TickSummary>>>) -> Result<SocketAddr> {
    let addr: SocketAddr = addr.parse().with_context(|| format!("bad metrics address {addr:?}"))?;
    let make_service = make_service_fn(move |_| {
        let last = last.clone();
        async move {
            Ok::<_, Infallible>(service_fn(move |_request| {
                let body = match &*last.lock().expect("metrics lock") {
                    Some(tick) => serde_json::to_string_pretty(tick).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
                    None => "{}".to_string(),
                };
                async move {
                    let mut response = Response::new(Body::from(body));
                    *response.status_mut() = StatusCode::OK;
                    response.headers_mut().insert("content-type", "application/json".parse().expect("header"));
                    Ok::<_, Infallible>(response)
                }
            }))
        }
    });
    let server = Server::try_bind(&addr).with_context(|| format!("cannot listen on {addr}"))?.serve(make_service);
    let local = server.local_addr();
    tokio::spawn(async move {
        if let Err(err) = server.await {
            log::error!("metrics server: {err}");
        }
    });
    Ok(local)
}
