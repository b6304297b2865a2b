//! A small HTTP/1.1 server on loopback that serves canned responses: the OParl tests and the benchmark use it (and
//! the end-to-end tests may). Responses are looked up by path and query; filters a test does not care about
//! (`modified_since`, `limit`) fall back to the response without them. Every request is recorded, failures can be
//! injected per URL.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A canned response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Arc<Vec<u8>>,
    pub content_type: &'static str,
    /// The `Location` of a redirect.
    pub location: Option<String>,
}

impl Response {
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Response { status: 200, body: Arc::new(body.into()), content_type: "application/json", location: None }
    }

    /// A page as ALLRIS classic serves it: bytes in windows-1252 under a Latin-1 label.
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Response { content_type: "text/html; charset=iso-8859-1", ..Response::json(body) }
    }

    pub fn xml(body: impl Into<Vec<u8>>) -> Self {
        Response { content_type: "text/xml; charset=iso-8859-1", ..Response::json(body) }
    }

    /// A 302 to `location` (a path of this server or a URL).
    pub fn redirect(location: impl Into<String>) -> Self {
        Response { status: 302, location: Some(location.into()), content_type: "text/html", ..Response::json("") }
    }

    pub fn status(status: u16) -> Self {
        Response {
            status,
            body: Arc::new(format!("{{\"error\":\"HTTP {status}\"}}").into_bytes()),
            content_type: "application/json",
            location: None,
        }
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Response>,
    /// path+query → (status, remaining count) served before the route.
    failures: HashMap<String, (u16, u32)>,
    requests: Vec<String>,
    /// Added before each response, to imitate a real server's response time.
    latency: std::time::Duration,
}

/// The server; it stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TestServer {
    /// Starts a server on 127.0.0.1 with an ephemeral port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    // A broken connection only ends that connection.
                    let _ = serve(stream, state).await;
                });
            }
        });
        Ok(TestServer { addr, state, task })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `response` at `path_and_query` ("/oparl/papers?page=2") or a full URL of this server.
    pub fn route(&self, url: &str, response: Response) {
        let key = self.key(url);
        lock(&self.state).routes.insert(key, response);
    }

    /// Answers the next `times` requests for `url` with `status` (`u32::MAX`: always).
    pub fn fail(&self, url: &str, status: u16, times: u32) {
        let key = self.key(url);
        lock(&self.state).failures.insert(key, (status, times));
    }

    /// Every request so far, as path and query.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }

    /// Waits `latency` before each response.
    pub fn set_latency(&self, latency: std::time::Duration) {
        lock(&self.state).latency = latency;
    }

    pub fn clear_requests(&self) {
        lock(&self.state).requests.clear();
    }

    fn key(&self, url: &str) -> String {
        url.strip_prefix(&self.base()).unwrap_or(url).to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The path and query without the parameters tests do not route on.
fn without_filters(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else { return target.to_owned() };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|param| !param.is_empty() && !param.starts_with("modified_since=") && !param.starts_with("limit="))
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

fn respond(state: &Mutex<State>, target: &str) -> (Response, std::time::Duration) {
    let mut state = lock(state);
    let latency = state.latency;
    (lookup(&mut state, target), latency)
}

fn lookup(state: &mut State, target: &str) -> Response {
    state.requests.push(target.to_owned());
    let key = if state.routes.contains_key(target) || state.failures.contains_key(target) {
        target.to_owned()
    } else {
        without_filters(target)
    };
    if let Some((status, remaining)) = state.failures.get_mut(&key) {
        if *remaining > 0 {
            if *remaining != u32::MAX {
                *remaining -= 1;
            }
            return Response::status(*status);
        }
    }
    state.routes.get(&key).cloned().unwrap_or_else(|| Response::status(404))
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        // Read one request head (GET requests have no body).
        let end = loop {
            if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break end + 4;
            }
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
            if buffer.len() > 64 * 1024 {
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
        buffer.drain(..end);
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let close = head.to_ascii_lowercase().contains("connection: close");
        let (response, latency) = respond(&state, &target);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let reason = match response.status {
            200 => "OK",
            302 => "Found",
            404 => "Not Found",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let header = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}{}\r\n",
            response.status,
            response.content_type,
            response.body.len(),
            response.location.as_ref().map(|location| format!("Location: {location}\r\n")).unwrap_or_default(),
            if close { "Connection: close\r\n" } else { "" }
        );
        // One write: a separate header write meets Nagle's algorithm and delayed ACKs (40 ms per response).
        let mut bytes = Vec::with_capacity(header.len() + response.body.len());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&response.body);
        stream.write_all(&bytes).await?;
        if close {
            return Ok(());
        }
    }
}

/// A generated paper list: `total` papers in pages of `per_page` under `{base}{path}`, with `links.next` and
/// `pagination` as real servers send them. Returns each page's path and query with its body.
pub fn paper_pages(base: &str, path: &str, total: usize, per_page: usize) -> Vec<(String, String)> {
    let pages = total.div_ceil(per_page).max(1);
    (1..=pages)
        .map(|page| {
            let start = (page - 1) * per_page;
            let data: Vec<serde_json::Value> = (start..total.min(start + per_page))
                .map(|n| {
                    serde_json::json!({
                        "id": format!("{base}/oparl/paper/{n}"),
                        "type": "https://schema.oparl.org/1.1/Paper",
                        "body": format!("{base}/oparl/body/1"),
                        "name": format!("Vorlage {n}: Ausstattung der Grundschule mit digitalen Tafeln"),
                        "reference": format!("{}/{}", n, 2019 + n % 5),
                        "date": format!("2019-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
                        "paperType": "Beschlussvorlage",
                        "mainFile": {
                            "id": format!("{base}/oparl/file/{n}"),
                            "name": "Vorlage",
                            "mimeType": "application/pdf",
                            "accessUrl": format!("{base}/files/{n}.pdf")
                        },
                        "consultation": [{
                            "id": format!("{base}/oparl/consultation/{n}"),
                            "meeting": format!("{base}/oparl/meeting/{}", n / 10),
                            "agendaItem": format!("{base}/oparl/agendaitem/{n}"),
                            "organization": [format!("{base}/oparl/organization/1")],
                            "authoritative": true,
                            "role": "Entscheidung"
                        }],
                        "web": format!("{base}/vo020?VOLFDNR={n}"),
                        "created": "2019-05-01T10:00:00+02:00",
                        "modified": "2019-05-01T10:00:00+02:00"
                    })
                })
                .collect();
            let mut links = serde_json::json!({
                "first": format!("{base}{path}?page=1"),
                "self": format!("{base}{path}?page={page}"),
                "last": format!("{base}{path}?page={pages}"),
            });
            if page < pages {
                links["next"] = serde_json::Value::String(format!("{base}{path}?page={}", page + 1));
            }
            let body = serde_json::json!({
                "data": data,
                "pagination": {"totalElements": total, "elementsPerPage": per_page, "currentPage": page, "totalPages": pages},
                "links": links,
            });
            (format!("{path}?page={page}"), body.to_string())
        })
        .collect()
}
