//! A loopback HTTP/1.1 server that misbehaves on purpose, for the fault-injection tests: besides canned answers it
//! can hang, reset the connection mid-body, close early (a truncated body), stream without end or redirect in a
//! circle. Answers are looked up by path and query, then by path alone.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response.
    Full { status: u16, headers: Vec<(String, String)>, body: Arc<Vec<u8>> },
    /// Reads the request and never answers.
    Hang,
    /// Declares `declared` bytes, sends `body` (shorter) and resets the connection (RST).
    ResetMidBody { declared: usize, body: Arc<Vec<u8>> },
    /// Declares `declared` bytes, sends `body` (shorter) and closes the connection normally (FIN).
    Truncated { declared: usize, body: Arc<Vec<u8>> },
    /// No Content-Length; streams bytes until the client goes away.
    Endless,
}

impl Reply {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Arc::new(body.into()),
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply::Full {
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: Arc::new(format!("<html><body><h1>Fehler {status}</h1></body></html>").into_bytes()),
        }
    }

    /// Adds a header to a full response.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

#[derive(Default)]
struct State {
    replies: HashMap<String, Reply>,
    /// Every request: path and query, and when it arrived.
    requests: Vec<(String, Instant)>,
    latency: Duration,
}

/// The server; it stops when dropped.
pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FaultServer {
    pub async fn start() -> FaultServer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        FaultServer { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers `path_and_query` with `reply`.
    pub fn reply(&self, path_and_query: &str, reply: Reply) {
        lock(&self.state).replies.insert(path_and_query.to_owned(), reply);
    }

    /// Waits this long before each answer.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// When each request for `path_and_query` arrived.
    pub fn arrivals(&self, path_and_query: &str) -> Vec<Instant> {
        lock(&self.state).requests.iter().filter(|(target, _)| target == path_and_query).map(|(_, at)| *at).collect()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lookup(state: &Mutex<State>, target: &str) -> (Option<Reply>, Duration) {
    let mut state = lock(state);
    state.requests.push((target.to_owned(), Instant::now()));
    let path = target.split('?').next().unwrap_or(target);
    let reply = state.replies.get(target).or_else(|| state.replies.get(path)).cloned();
    (reply, state.latency)
}

fn head(status: u16, headers: &[(String, String)], length: Option<usize>) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status} Status\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    match length {
        Some(length) => text.push_str(&format!("Content-Length: {length}\r\n")),
        None => text.push_str("Connection: close\r\n"),
    }
    text.push_str("\r\n");
    text.into_bytes()
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let end = loop {
            if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break end + 4;
            }
            let read = stream.read(&mut chunk).await?;
            if read == 0 || buffer.len() > 64 * 1024 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
        };
        let request = String::from_utf8_lossy(&buffer[..end]).into_owned();
        buffer.drain(..end);
        let target = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (reply, latency) = lookup(&state, &target);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match reply.unwrap_or_else(|| Reply::status(404)) {
            Reply::Full { status, headers, body } => {
                let mut bytes = head(status, &headers, Some(body.len()));
                bytes.extend_from_slice(&body);
                stream.write_all(&bytes).await?;
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return Ok(());
            }
            Reply::ResetMidBody { declared, body } => {
                let mut bytes =
                    head(200, &[("Content-Type".into(), "application/octet-stream".into())], Some(declared));
                bytes.extend_from_slice(&body);
                stream.write_all(&bytes).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
                // Linger 0: closing sends RST instead of FIN (and, with a zero timeout, never blocks on drop, which
                // is why tokio deprecates the call in general).
                #[allow(deprecated)]
                stream.set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
            Reply::Truncated { declared, body } => {
                let mut bytes =
                    head(200, &[("Content-Type".into(), "application/octet-stream".into())], Some(declared));
                bytes.extend_from_slice(&body);
                stream.write_all(&bytes).await?;
                stream.shutdown().await?;
                return Ok(());
            }
            Reply::Endless => {
                stream.write_all(&head(200, &[("Content-Type".into(), "text/csv".into())], None)).await?;
                let block = vec![b'x'; 64 * 1024];
                loop {
                    stream.write_all(&block).await?;
                }
            }
        }
    }
}
