//! A loopback HTTP proxy for the fault tests: it forwards each request to a real
//! server (Prometheus, the Portworx simulator) or, for requests a rule picks, answers
//! in its place with a fault. One request per connection (it tells both sides
//! `connection: close`), so a client's pooled connection cannot slip past a fault set
//! later.
#![allow(dead_code)]
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub enum Fault {
    /// Forward as is.
    Pass,
    /// Wait this long, then forward.
    Delay(Duration),
    /// Read the request and never answer.
    Hang,
    /// Answer in the server's place: status, content type, body.
    Answer(u16, &'static str, String),
    /// Forward, then send only the first half of the real answer's body.
    Truncate,
    /// Forward with this bearer token in place of the client's.
    Token(&'static str),
}

type Rules = Arc<Mutex<Vec<(String, Fault)>>>;

pub struct Proxy {
    pub url: String,
    addr: SocketAddr,
    upstream: SocketAddr,
    rules: Rules,
    /// Requests seen, faulted or not.
    pub requests: Arc<AtomicUsize>,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    /// A proxy in front of `upstream` (http://host:port), passing everything.
    pub async fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("upstream as http://ip:port");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut p = Proxy {
            url: format!("http://{addr}"),
            addr,
            upstream,
            rules: Arc::new(Mutex::new(Vec::new())),
            requests: Arc::new(AtomicUsize::new(0)),
            task: None,
        };
        p.serve(listener);
        p
    }

    fn serve(&mut self, listener: TcpListener) {
        let (rules, upstream, requests) =
            (self.rules.clone(), self.upstream, self.requests.clone());
        self.task = Some(tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((sock, _)) = listener.accept().await {
                let (rules, requests) = (rules.clone(), requests.clone());
                conns.spawn(async move {
                    let _ = one(sock, upstream, &rules, &requests).await;
                });
            }
        }));
    }

    /// Every request gets `fault`.
    pub fn set(&self, fault: Fault) {
        *self.rules.lock().unwrap() = vec![(String::new(), fault)];
    }

    /// Requests whose request line contains `marker` get `fault`; rules added earlier
    /// win. Requests no rule picks pass.
    pub fn when(&self, marker: &str, fault: Fault) {
        self.rules.lock().unwrap().push((marker.to_string(), fault));
    }

    /// Closes the port: connections are refused, as by a stopped server. Connections
    /// already open are dropped too.
    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&mut self) {
        self.stop();
        // The aborted task drops its listener when it next runs.
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on.
pub fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

fn fault_for(rules: &Rules, request_line: &str) -> Fault {
    rules
        .lock()
        .unwrap()
        .iter()
        .find(|(m, _)| request_line.contains(m.as_str()))
        .map_or(Fault::Pass, |(_, f)| f.clone())
}

/// Reads one request: its head (up to the blank line) and body, by content-length.
async fn read_request(sock: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = header(&head, "content-length").map_or(0, |v| v.parse().unwrap_or(0));
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The head with `connection: close`, and `authorization` replaced when `token` is set.
fn rewrite(head: &str, token: Option<&str>) -> String {
    let mut lines: Vec<String> = head
        .lines()
        .filter(|l| {
            let k = l
                .split(':')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            k != "connection" && !(token.is_some() && k == "authorization")
        })
        .map(String::from)
        .collect();
    lines.push("connection: close".into());
    if let Some(t) = token {
        lines.push(format!("authorization: Bearer {t}"));
    }
    lines.join("\r\n") + "\r\n\r\n"
}

/// Sends the request upstream and reads the whole answer.
async fn forward(
    upstream: SocketAddr,
    head: &str,
    body: &[u8],
    token: Option<&str>,
) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(rewrite(head, token).as_bytes()).await?;
    up.write_all(body).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    Ok(answer)
}

/// The answer with only the first half of its body, its length set to match.
fn truncated(answer: &[u8]) -> Vec<u8> {
    let end = find(answer, b"\r\n\r\n").expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..end]);
    assert!(
        header(&head, "transfer-encoding").is_none(),
        "a chunked answer cannot be cut here: {head}"
    );
    let body = &answer[end + 4..];
    let half = &body[..body.len() / 2];
    let lines: Vec<&str> = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length"))
        .collect();
    let mut out = format!(
        "{}\r\ncontent-length: {}\r\n\r\n",
        lines.join("\r\n"),
        half.len()
    )
    .into_bytes();
    out.extend_from_slice(half);
    out
}

async fn one(
    mut sock: TcpStream,
    upstream: SocketAddr,
    rules: &Rules,
    requests: &AtomicUsize,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut sock).await?;
    requests.fetch_add(1, Ordering::SeqCst);
    let line = head.lines().next().unwrap_or_default().to_string();
    let answer = match fault_for(rules, &line) {
        Fault::Pass => forward(upstream, &head, &body, None).await?,
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            forward(upstream, &head, &body, None).await?
        }
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
        Fault::Answer(status, kind, text) => format!(
            "HTTP/1.1 {status} Fault\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
            text.len()
        )
        .into_bytes(),
        Fault::Truncate => truncated(&forward(upstream, &head, &body, None).await?),
        Fault::Token(t) => forward(upstream, &head, &body, Some(t)).await?,
    };
    sock.write_all(&answer).await?;
    sock.shutdown().await
}
