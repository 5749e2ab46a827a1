//! A minimal HTTP/1.1 client over `TcpStream`: one request per connection (`Connection: close`),
//! bodies framed by `Content-Length`, chunked encoding or end of stream, sizes capped, every
//! socket operation under a timeout. Plain `http://` only — the dev server is on the LAN.

use crate::error::{Error, ErrorKind};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const MAX_HEADER_BYTES: u64 = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// An `http://` URL split into what a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// Host as written (IPv6 without brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Path and query, always starting with `/`.
    pub(crate) target: String,
}

impl Url {
    pub(crate) fn parse(text: &str) -> Result<Url, Error> {
        let bad = |why: &str| Error::new(ErrorKind::Http, format!("bad server URL {text:?}: {why}"));
        let rest = text.strip_prefix("http://").ok_or_else(|| bad("only http:// URLs are supported"))?;
        let (authority, target) = match rest.find(['/', '?']) {
            Some(index) => (&rest[..index], rest[index..].to_string()),
            None => (rest, "/".to_string()),
        };
        let target = if target.starts_with('?') { format!("/{target}") } else { target };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| bad("unclosed `[` in the host"))?;
            (&v6[..end], v6[end + 1..].strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(port) => port.parse::<u16>().map_err(|_| bad("the port is not a number from 0 to 65535"))?,
            None => 80,
        };
        Ok(Url { host: host.to_string(), port, target })
    }

    /// `reference` resolved against this URL: absolute URLs are taken as they are, `/paths`
    /// replace the path (as in a browser).
    pub(crate) fn resolve(&self, reference: &str) -> Result<Url, Error> {
        if reference.starts_with("http://") || reference.starts_with("https://") {
            Url::parse(reference)
        } else if reference.starts_with('/') {
            Ok(Url { target: reference.to_string(), ..self.clone() })
        } else {
            Err(Error::new(ErrorKind::Http, format!("cannot follow URL {reference:?}: expected an absolute path or http:// URL")))
        }
    }

    /// Same origin — scheme, host (case-insensitive) and port; the scheme is always `http://`,
    /// the only one this client speaks: where a credential for `other` may go.
    pub(crate) fn same_origin(&self, other: &Url) -> bool {
        self.port == other.port && self.host.eq_ignore_ascii_case(&other.host)
    }

    /// This URL with `path` appended to its path (for API routes under a server base URL).
    pub(crate) fn join(&self, path: &str) -> Url {
        let base = self.target.split('?').next().unwrap_or("").trim_end_matches('/');
        Url { target: format!("{base}{path}"), ..self.clone() }
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.target)
    }
}

/// A bearer token and the one origin it belongs to (the `WHISKER_DEV_SERVER` it was given for).
///
/// `send` writes `Authorization: Bearer <token>` only for a URL of that origin, so no caller can
/// leak it: a patch's `libraryUrl` or a restart's `binaryUrl` naming another host or port gets
/// the request without it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Credential<'a> {
    pub(crate) token: &'a str,
    pub(crate) origin: &'a Url,
}

impl<'a> Credential<'a> {
    /// `token` (if any) for the server at `origin`.
    pub(crate) fn for_server(token: Option<&'a str>, origin: &'a Url) -> Option<Credential<'a>> {
        token.map(|token| Credential { token, origin })
    }

    /// The token when `url` is of the credential's origin.
    fn token_for(&self, url: &Url) -> Option<&'a str> {
        if url.same_origin(self.origin) {
            Some(self.token)
        } else {
            None
        }
    }
}

/// A request to send.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a Url,
    /// Sent only to its own origin.
    pub(crate) credential: Option<Credential<'a>>,
    /// A body, if any: its media type and bytes.
    pub(crate) body: Option<Body<'a>>,
    /// Applies to connecting-after-resolution, each read and each write.
    pub(crate) timeout: Duration,
    /// Larger bodies are refused rather than buffered.
    pub(crate) max_body: usize,
}

/// A request body and what it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Body<'a> {
    pub(crate) content_type: &'a str,
    pub(crate) bytes: &'a [u8],
}

impl<'a> Body<'a> {
    pub(crate) fn json(text: &'a str) -> Body<'a> {
        Body { content_type: "application/json", bytes: text.as_bytes() }
    }

    pub(crate) fn octets(bytes: &'a [u8]) -> Body<'a> {
        Body { content_type: "application/octet-stream", bytes }
    }
}

/// A complete response.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    pub(crate) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn io_error(context: &str, err: std::io::Error) -> Error {
    let reason = match err.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timed out".to_string(),
        _ => err.to_string(),
    };
    Error::new(ErrorKind::Io, format!("{context}: {reason}"))
}

/// Sends `request` and reads the whole response.
pub(crate) fn send(request: &Request<'_>) -> Result<Response, Error> {
    let what = format!("{} {}", request.method, request.url);
    let stream = open(request.url, request.timeout).map_err(|err| Error::new(err.kind(), format!("{what}: {}", err.message())))?;
    write_request(&stream, request).map_err(|err| io_error(&what, err))?;
    let mut reader = BufReader::new(stream);
    read_response(&mut reader, request.method == "HEAD", request.max_body)
        .map_err(|err| Error::new(err.kind(), format!("{what}: {}", err.message())))
}

fn open(url: &Url, timeout: Duration) -> Result<TcpStream, Error> {
    let addresses = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|err| io_error(&format!("cannot resolve {}", url.host), err))?;
    let mut last = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT.min(timeout)) {
            Ok(stream) => {
                stream.set_read_timeout(Some(timeout)).map_err(|err| io_error("cannot set a read timeout", err))?;
                stream.set_write_timeout(Some(timeout)).map_err(|err| io_error("cannot set a write timeout", err))?;
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(err) => last = Some(io_error(&format!("cannot connect to {address}"), err)),
        }
    }
    Err(last.unwrap_or_else(|| Error::new(ErrorKind::Io, format!("{} resolves to no address", url.host))))
}

fn write_request(mut stream: &TcpStream, request: &Request<'_>) -> std::io::Result<()> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: whisker-hot/{}\r\nAccept: */*\r\nConnection: close\r\n",
        request.method,
        request.url.target,
        request.url.authority(),
        env!("CARGO_PKG_VERSION")
    );
    if let Some(token) = request.credential.and_then(|credential| credential.token_for(request.url)) {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if let Some(body) = request.body {
        head.push_str(&format!("Content-Type: {}\r\nContent-Length: {}\r\n", body.content_type, body.bytes.len()));
    } else if request.method == "POST" || request.method == "PUT" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some(body) = request.body {
        stream.write_all(body.bytes)?;
    }
    stream.flush()
}

fn protocol(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Http, message)
}

/// Reads one CRLF- (or LF-) terminated line of at most `limit` bytes, without the terminator.
fn read_line<R: BufRead>(reader: &mut R, limit: u64, what: &str) -> Result<String, Error> {
    let mut line = Vec::new();
    let read = reader.by_ref().take(limit).read_until(b'\n', &mut line).map_err(|err| io_error(&format!("reading {what}"), err))?;
    if read == 0 {
        return Err(protocol(format!("connection closed while reading {what}")));
    }
    if line.last() != Some(&b'\n') {
        return Err(protocol(if read as u64 >= limit {
            format!("{what} is longer than {limit} bytes")
        } else {
            format!("connection closed in the middle of {what}")
        }));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| protocol(format!("{what} is not UTF-8")))
}

pub(crate) fn read_response<R: BufRead>(reader: &mut R, head_only: bool, max_body: usize) -> Result<Response, Error> {
    let status_line = read_line(reader, MAX_HEADER_BYTES, "the status line")?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status = parts.next().and_then(|code| code.parse::<u16>().ok());
    let status = match status {
        Some(status) if version.starts_with("HTTP/1.") && (100..1000).contains(&status) => status,
        _ => return Err(protocol(format!("not an HTTP/1.x response: {status_line:?}"))),
    };
    let mut headers = Vec::new();
    let mut header_bytes = status_line.len() as u64;
    loop {
        let line = read_line(reader, MAX_HEADER_BYTES, "the response headers")?;
        header_bytes += line.len() as u64 + 2;
        if header_bytes > MAX_HEADER_BYTES {
            return Err(protocol(format!("response headers are longer than {MAX_HEADER_BYTES} bytes")));
        }
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| protocol(format!("malformed header line {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut response = Response { status, headers, body: Vec::new() };
    if head_only || status < 200 || status == 204 || status == 304 {
        return Ok(response);
    }
    let chunked = response
        .header("Transfer-Encoding")
        .map(|value| value.split(',').any(|coding| coding.trim().eq_ignore_ascii_case("chunked")))
        .unwrap_or(false);
    if chunked {
        response.body = read_chunked(reader, max_body)?;
    } else if let Some(length) = response.header("Content-Length") {
        let length: usize = length.parse().map_err(|_| protocol(format!("bad Content-Length {length:?}")))?;
        if length > max_body {
            return Err(protocol(format!("response body of {length} bytes exceeds the {max_body}-byte limit")));
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).map_err(|err| match err.kind() {
            std::io::ErrorKind::UnexpectedEof => protocol(format!("connection closed before the {length}-byte body was complete")),
            _ => io_error("reading the body", err),
        })?;
        response.body = body;
    } else {
        let mut body = Vec::new();
        let read = reader
            .by_ref()
            .take(max_body as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|err| io_error("reading the body", err))?;
        if read > max_body {
            return Err(protocol(format!("response body exceeds the {max_body}-byte limit")));
        }
        response.body = body;
    }
    Ok(response)
}

fn read_chunked<R: BufRead>(reader: &mut R, max_body: usize) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, 1024, "a chunk size")?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| protocol(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, if any, end with an empty line.
            while !read_line(reader, MAX_HEADER_BYTES, "the trailers")?.is_empty() {}
            return Ok(body);
        }
        if size > max_body.saturating_sub(body.len()) {
            return Err(protocol(format!("response body exceeds the {max_body}-byte limit")));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).map_err(|err| io_error("reading a chunk", err))?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf).map_err(|err| io_error("reading a chunk", err))?;
        if &crlf != b"\r\n" {
            return Err(protocol("chunk not followed by CRLF"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::TcpListener;

    #[test]
    fn parses_urls() {
        let url = Url::parse("http://127.0.0.1:9630").unwrap();
        assert_eq!(url, Url { host: "127.0.0.1".into(), port: 9630, target: "/".into() });
        assert_eq!(url.join("/api/devices").target, "/api/devices");
        let url = Url::parse("http://dev.local/whisker/").unwrap();
        assert_eq!((url.port, url.join("/api/devices").target.as_str()), (80, "/whisker/api/devices"));
        let url = Url::parse("http://[::1]:8080/x?y=1").unwrap();
        assert_eq!((url.host.as_str(), url.port, url.target.as_str()), ("::1", 8080, "/x?y=1"));
        assert_eq!(url.to_string(), "http://[::1]:8080/x?y=1");
        assert_eq!(url.resolve("/api/patches/1/library").unwrap().target, "/api/patches/1/library");
        assert_eq!(url.resolve("http://other:1/lib").unwrap().host, "other");
        for bad in ["https://x", "127.0.0.1:9630", "http://", "http://:80", "http://h:99999", "http://[::1"] {
            let err = Url::parse(bad).unwrap_err();
            assert!(err.message().contains("bad server URL"), "{bad}: {err}");
        }
    }

    fn parse(raw: &[u8], max: usize) -> Result<Response, Error> {
        read_response(&mut Cursor::new(raw.to_vec()), false, max)
    }

    #[test]
    fn reads_content_length_chunked_and_until_close_bodies() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\nhello", 100).unwrap();
        assert_eq!((r.status, r.body.as_slice(), r.header("etag")), (200, &b"hello"[..], Some("\"x\"")));
        let r = parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-T: 1\r\n\r\n", 100).unwrap();
        assert_eq!(r.body, b"hello, world");
        let r = parse(b"HTTP/1.0 201 Created\nContent-Type: application/json\n\n{\"id\":\"d1\"}", 100).unwrap();
        assert_eq!((r.status, r.body_text().as_str()), (201, "{\"id\":\"d1\"}"));
        let r = parse(b"HTTP/1.1 204 No Content\r\n\r\n", 100).unwrap();
        assert!(r.body.is_empty());
    }

    #[test]
    fn refuses_malformed_or_oversized_responses() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "connection closed"),
            (b"SSH-2.0-OpenSSH\r\n", "not an HTTP/1.x response"),
            (b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n", "malformed header"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "before the 10-byte body"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", "exceeds"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n200\r\n", "exceeds"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", "CRLF"),
        ];
        for (raw, needle) in cases {
            let err = parse(raw, 100).unwrap_err();
            assert!(err.message().contains(needle), "{:?}: {err}", String::from_utf8_lossy(raw));
        }
        let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        huge.extend(std::iter::repeat(b'a').take(70_000));
        assert!(parse(&huge, 100).unwrap_err().message().contains("longer than"));
        let mut eof_body = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        eof_body.extend([b'z'; 101]);
        assert!(parse(&eof_body, 100).unwrap_err().message().contains("exceeds"));
    }

    /// Accepts one request on `listener`: its head and `body_length` bytes of body, answered
    /// with `reply`.
    fn serve_one(listener: TcpListener, body_length: usize, reply: &'static [u8]) -> std::thread::JoinHandle<(String, Vec<u8>)> {
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                head.push_str(&line);
            }
            let mut body = vec![0u8; body_length];
            reader.read_exact(&mut body).unwrap();
            (&stream).write_all(reply).unwrap();
            (head, body)
        })
    }

    #[test]
    fn talks_to_a_real_socket_with_token_and_body() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = serve_one(listener, 7, b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        let url = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap().join("/api/devices");
        let request = Request {
            method: "POST",
            url: &url,
            credential: Some(Credential { token: "s3cret", origin: &url }),
            body: Some(Body::json("{\"a\":1}")),
            timeout: Duration::from_secs(5),
            max_body: 1024,
        };
        let response = send(&request).unwrap();
        assert_eq!((response.status, response.body.as_slice()), (201, &b"abc"[..]));
        let (head, body) = server.join().unwrap();
        assert!(head.starts_with("POST /api/devices HTTP/1.1\r\n"), "{head}");
        assert!(head.contains(&format!("Host: 127.0.0.1:{port}\r\n")), "{head}");
        assert!(head.contains("Authorization: Bearer s3cret\r\n"), "{head}");
        assert!(head.contains("Content-Length: 7\r\n"), "{head}");
        assert_eq!(body, b"{\"a\":1}");
    }

    #[test]
    fn a_credential_goes_to_its_own_origin_only() {
        let server = Url::parse("http://127.0.0.1:9/").unwrap();
        let credential = Credential { token: "s3cret", origin: &server };
        // Another port on the same host, and the same port under another name, are other origins.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let other = serve_one(listener, 0, b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        let url = Url::parse(&format!("http://127.0.0.1:{port}/cdn/lib.so")).unwrap();
        let request = Request { method: "GET", url: &url, credential: Some(credential), body: None, timeout: Duration::from_secs(5), max_body: 10 };
        assert_eq!(send(&request).unwrap().status, 204);
        let (head, _) = other.join().unwrap();
        assert!(head.starts_with("GET /cdn/lib.so HTTP/1.1\r\n"), "{head}");
        assert!(!head.to_ascii_lowercase().contains("authorization"), "{head}");
        assert!(!head.contains("s3cret"), "{head}");
        assert_eq!(credential.token_for(&Url::parse("http://localhost:9/x").unwrap()), None);
        assert_eq!(credential.token_for(&server.join("/api/devices")), Some("s3cret"));
        assert_eq!(credential.token_for(&server.resolve("http://127.0.0.1:9/api/patches/1/library").unwrap()), Some("s3cret"));
    }

    #[test]
    fn only_the_servers_own_origin_counts_as_the_same() {
        let server = Url::parse("http://10.0.0.1:9630/").unwrap();
        let base = server.clone();
        assert!(base.resolve("/api/patches/1/library").unwrap().same_origin(&server));
        assert!(Url::parse("http://10.0.0.1:9630/x").unwrap().same_origin(&server));
        assert!(!Url::parse("http://10.0.0.1:9631/x").unwrap().same_origin(&server));
        assert!(!Url::parse("http://cdn.example:9630/x").unwrap().same_origin(&server));
        assert!(Url::parse("http://Host.Example:80/").unwrap().same_origin(&Url::parse("http://host.example:80/").unwrap()));
    }

    #[test]
    fn a_silent_server_times_out_and_a_closed_port_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let request = Request { method: "GET", url: &url, credential: None, body: None, timeout: Duration::from_millis(200), max_body: 10 };
        let err = send(&request).unwrap_err();
        assert!(err.message().contains("timed out"), "{err}");
        drop(listener);
        let err = send(&request).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        // A parallel test may bind the freed port at once (seen under QEMU): then the stranger resets us.
        assert!(err.message().contains("cannot connect") || err.message().contains("reset"), "{err}");
    }
}
