//! The service's routes. `handle` runs through `whisker_hot::call` for every request: edit any
//! function here, save, and the running server answers with the new code.

use std::collections::HashMap;

use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Body, Method, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::state::AppState;

/// The parts of a request the handlers look at, read before the hot call.
pub struct Incoming {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Incoming {
    pub fn new(parts: &Parts, body: &[u8]) -> Self {
        Incoming {
            method: parts.method.clone(),
            path: parts.uri.path().to_string(),
            query: parse_query(parts.uri.query().unwrap_or("")),
            body: body.to_vec(),
        }
    }
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (percent_decode(key), percent_decode(value)),
            None => (percent_decode(pair), String::new()),
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Serialize)]
struct Greeting<'a> {
    message: String,
    name: &'a str,
    request: u64,
}

#[derive(Deserialize)]
struct NewNote {
    text: String,
}

pub fn handle(state: &AppState, request: &Incoming) -> Response<Body> {
    let route = match (&request.method, request.path.as_str()) {
        (&Method::GET, "/") => "index",
        (&Method::GET, "/hello") => "hello",
        (&Method::GET, "/stats") => "stats",
        (&Method::GET, "/notes") | (&Method::POST, "/notes") => "notes",
        (&Method::GET, "/health") => "health",
        _ => "not-found",
    };
    let number = state.count(route);
    match route {
        "index" => text(StatusCode::OK, format!("{}\n", banner())),
        "hello" => hello(request, number),
        "stats" => stats(state),
        "notes" if request.method == Method::POST => add_note(state, request),
        "notes" => json_response(StatusCode::OK, &json!({ "notes": state.notes() })),
        "health" => text(StatusCode::OK, "ok\n".to_string()),
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": "not found", "path": request.path }),
        ),
    }
}

fn banner() -> &'static str {
    "async-service: try /hello?name=you, /stats or /notes"
}

fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}

fn hello(request: &Incoming, number: u64) -> Response<Body> {
    let name = request.query.get("name").map(String::as_str).unwrap_or("world");
    let body = Greeting { message: greeting(name), name, request: number };
    json_response(StatusCode::OK, &body)
}

fn stats(state: &AppState) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({
            "requests": state.requests(),
            "uptimeSeconds": (state.uptime_seconds() * 10.0).round() / 10.0,
            "routes": state.per_route(),
        }),
    )
}

fn add_note(state: &AppState, request: &Incoming) -> Response<Body> {
    match serde_json::from_slice::<NewNote>(&request.body) {
        Ok(new) if !new.text.trim().is_empty() => {
            let note = state.add_note(new.text.trim().to_string());
            json_response(StatusCode::CREATED, &note)
        }
        Ok(_) => json_response(StatusCode::UNPROCESSABLE_ENTITY, &json!({ "error": "empty note" })),
        Err(err) => json_response(StatusCode::BAD_REQUEST, &json!({ "error": err.to_string() })),
    }
}

fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    let mut body = serde_json::to_vec(value).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}").into_bytes());
    body.push(b'\n');
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
