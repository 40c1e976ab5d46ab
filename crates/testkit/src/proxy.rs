//! A small HTTP proxy on loopback, in front of an AWS endpoint (the emulator):
//! it adds latency to every call and answers a share of calls with the
//! throttling error of the call's protocol, as AWS would. The emulator tests
//! and the benchmark use it; eksform itself never does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// What the proxy does to the calls it passes on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Behaviour {
    /// Added before every call is passed on (a round trip to a far region).
    pub latency: Duration,
    /// Answer one call in n with a throttling error instead (3: a third),
    /// picked pseudo-randomly (the same calls every run), as AWS's are.
    pub throttle_every: Option<u64>,
    /// The first call of this action (`CreateVpc`) is passed on and takes
    /// effect, but its answer is lost: the caller gets a server error.
    pub lose_first_answer_of: Option<&'static str>,
    /// Calls kept waiting at the proxy until `Proxy::let_go`: a test's way
    /// to stop a run at a known point, rather than after a guessed time.
    pub hold: Option<Hold>,
}

/// Which calls `Behaviour::hold` keeps waiting.
#[derive(Debug, Clone, Copy)]
pub enum Hold {
    /// Every call of this action (`CreateNatGateway`).
    Action(&'static str),
    /// The n-th call (counting from 1) and every one after it.
    FromCall(u64),
    /// The n-th REST call (counting from 1) whose path ends so, and every
    /// one after it: REST calls name no action (`/node-groups/<name>` with
    /// 2: EKS's DescribeNodegroup after the plan's own).
    PathEndingFrom(&'static str, u64),
}

/// A running proxy; it stops when dropped.
pub struct Proxy {
    pub url: String,
    calls: Arc<AtomicU64>,
    throttled: Arc<AtomicU64>,
    /// Calls that reached the hold (`Behaviour::hold`).
    held: Arc<AtomicU64>,
    gate: tokio::sync::watch::Sender<bool>,
    /// Each passed-on call: when it started and ended, and its action.
    spans: Arc<std::sync::Mutex<Vec<Span>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Calls passed on to the endpoint.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls answered with a throttling error.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Calls that reached the hold and waited there (released or not).
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }

    /// Lets the held calls, and every later one, through.
    pub fn let_go(&self) {
        self.gate.send_replace(true);
    }

    /// The longest chain of calls each of which started after the previous
    /// one ended: the round trips a client had to wait for one after another.
    pub fn depth(&self) -> usize {
        self.longest_chain().len()
    }

    /// The calls of the longest chain (see `depth`), by action and time taken,
    /// first to last.
    pub fn longest_chain(&self) -> Vec<String> {
        let mut spans = self.spans.lock().map(|s| s.clone()).unwrap_or_default();
        spans.sort_by_key(|s| (s.started, s.ended));
        let mut chain = vec![1usize; spans.len()];
        let mut via: Vec<Option<usize>> = vec![None; spans.len()];
        for i in 0..spans.len() {
            for j in 0..i {
                if spans[j].ended <= spans[i].started && chain[j] + 1 > chain[i] {
                    chain[i] = chain[j] + 1;
                    via[i] = Some(j);
                }
            }
        }
        let mut at = (0..spans.len()).max_by_key(|&i| chain[i]);
        let mut actions = Vec::new();
        while let Some(i) = at {
            let span = &spans[i];
            actions.push(format!(
                "{} ({} ms)",
                span.action,
                (span.ended - span.started).as_millis()
            ));
            at = via[i];
        }
        actions.reverse();
        actions
    }

    /// The `n` calls that took longest, slowest first, by action and time
    /// taken (the emulator's answer time included).
    pub fn slowest(&self, n: usize) -> Vec<String> {
        let mut spans = self.spans.lock().map(|s| s.clone()).unwrap_or_default();
        spans.sort_by_key(|s| std::cmp::Reverse(s.ended - s.started));
        spans
            .iter()
            .take(n)
            .map(|s| format!("{} ({} ms)", s.action, (s.ended - s.started).as_millis()))
            .collect()
    }

    /// Every call passed on, in the order they ended.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.spans
            .lock()
            .map(|s| s.iter().map(|span| span.call.clone()).collect())
            .unwrap_or_default()
    }

    /// How many calls of each action were passed on.
    pub fn calls_by_action(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for span in self.spans.lock().map(|s| s.clone()).unwrap_or_default() {
            *counts.entry(span.action).or_default() += 1;
        }
        counts
    }
}

/// One call passed on.
#[derive(Debug, Clone)]
struct Span {
    started: std::time::Instant,
    ended: std::time::Instant,
    action: String,
    call: Recorded,
}

/// A call as the proxy saw it: enough to name the IAM action it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The signing name of its credential scope (`ec2`, `eks`, `s3`, ...).
    pub service: String,
    /// As `calls_by_action` names it (REST calls: method and path).
    pub action: String,
    pub method: String,
    pub path: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
}

/// The service a request is signed for: `Credential=<key>/<date>/<region>/<service>/aws4_request`.
fn service_of(parts: &hyper::http::request::Parts) -> String {
    parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').nth(3))
        .unwrap_or_default()
        .to_string()
}

/// The API action of a request: its `X-Amz-Target` (JSON protocols), its
/// `Action` form field (query protocols), or its method and path (REST).
fn action_of(parts: &hyper::http::request::Parts, body: &[u8]) -> String {
    if let Some(target) = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    if let Some(action) = std::str::from_utf8(body)
        .ok()
        .and_then(|b| b.split('&').find_map(|f| f.strip_prefix("Action=")))
    {
        return action.to_string();
    }
    format!("{} {}", parts.method, parts.uri.path())
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A proxy to `upstream` that keeps the calls `hold` says waiting until
/// `Proxy::let_go`: a run stopped at a known point, whatever the machine's pace.
pub async fn holding(upstream: &str, hold: Hold) -> Proxy {
    start(
        upstream,
        Behaviour {
            hold: Some(hold),
            ..Behaviour::default()
        },
    )
    .await
    .expect("the proxy starts on loopback")
}

/// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) on a free loopback port.
pub async fn start(upstream: &str, behaviour: Behaviour) -> std::io::Result<Proxy> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let upstream: hyper::Uri = upstream
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let calls = Arc::new(AtomicU64::new(0));
    let throttled = Arc::new(AtomicU64::new(0));
    let spans = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = spans.clone();
    let seen = Arc::new(AtomicU64::new(0));
    // Calls whose path `Hold::PathEndingFrom` names, counted.
    let matching = Arc::new(AtomicU64::new(0));
    let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let held = Arc::new(AtomicU64::new(0));
    let (gate, _) = tokio::sync::watch::channel(false);
    let (counted, refused) = (calls.clone(), throttled.clone());
    let (holding, open) = (held.clone(), gate.subscribe());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (client, upstream) = (client.clone(), upstream.clone());
            let (counted, refused, seen) = (counted.clone(), refused.clone(), seen.clone());
            let (lost, matching) = (lost.clone(), matching.clone());
            let recorded = recorded.clone();
            let (holding, open) = (holding.clone(), open.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let (client, upstream) = (client.clone(), upstream.clone());
                    let (counted, refused, seen) = (counted.clone(), refused.clone(), seen.clone());
                    let (lost, matching) = (lost.clone(), matching.clone());
                    let recorded = recorded.clone();
                    let (holding, mut opened) = (holding.clone(), open.clone());
                    async move {
                        let started = std::time::Instant::now();
                        tokio::time::sleep(behaviour.latency).await;
                        let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        if behaviour
                            .throttle_every
                            .is_some_and(|every| every > 0 && scramble(n).is_multiple_of(every))
                        {
                            refused.fetch_add(1, Ordering::Relaxed);
                            return Ok::<_, hyper::Error>(refusal(
                                &parts,
                                &body,
                                Refusal::Throttled,
                            ));
                        }
                        counted.fetch_add(1, Ordering::Relaxed);
                        let action = action_of(&parts, &body);
                        let call = Recorded {
                            service: service_of(&parts),
                            action: action.clone(),
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_string(),
                            query: parts.uri.query().unwrap_or_default().to_string(),
                        };
                        let held_here = match behaviour.hold {
                            Some(Hold::Action(held)) => held == action,
                            Some(Hold::FromCall(from)) => n >= from,
                            Some(Hold::PathEndingFrom(end, from)) => {
                                call.path.ends_with(end)
                                    && matching.fetch_add(1, Ordering::SeqCst) + 1 >= from
                            }
                            None => false,
                        };
                        if held_here {
                            holding.fetch_add(1, Ordering::SeqCst);
                            // Until `let_go`; a proxy dropped meanwhile ends
                            // the wait, and the call with it.
                            if opened.wait_for(|open| *open).await.is_err() {
                                return Ok(plain(StatusCode::BAD_GATEWAY, "proxy stopped"));
                            }
                        }
                        let lose_answer = behaviour.lose_first_answer_of == Some(action.as_str())
                            && !lost.swap(true, Ordering::SeqCst);
                        let lost_answer =
                            lose_answer.then(|| refusal(&parts, &body, Refusal::ServerError));
                        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                        let mut forward =
                            Request::builder().method(parts.method.clone()).uri(format!(
                                "{}://{}{path}",
                                upstream.scheme_str().unwrap_or("http"),
                                upstream.authority().map_or("127.0.0.1", |a| a.as_str())
                            ));
                        for (name, value) in &parts.headers {
                            forward = forward.header(name, value);
                        }
                        let Ok(forward) = forward.body(Full::new(body)) else {
                            return Ok(plain(StatusCode::BAD_REQUEST, "bad request"));
                        };
                        match client.request(forward).await {
                            Ok(response) => {
                                let (parts, body) = response.into_parts();
                                let body = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes())
                                    .unwrap_or_default();
                                if let Some(answer) = lost_answer {
                                    return Ok(answer);
                                }
                                if let Ok(mut spans) = recorded.lock() {
                                    spans.push(Span {
                                        started,
                                        ended: std::time::Instant::now(),
                                        action,
                                        call,
                                    });
                                }
                                Ok(Response::from_parts(parts, Full::new(body)))
                            }
                            Err(e) => Ok(plain(StatusCode::BAD_GATEWAY, &e.to_string())),
                        }
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Proxy {
        url,
        calls,
        throttled,
        held,
        gate,
        spans,
        task,
    })
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_string())));
    *response.status_mut() = status;
    response
}

/// AWS's throttling answer in the protocol of the request.
/// What the proxy answers instead of AWS.
#[derive(Clone, Copy, PartialEq)]
enum Refusal {
    Throttled,
    /// A server error after the call took effect (its answer lost).
    ServerError,
}

/// The throttling or server error of the call's protocol, as AWS answers it.
fn refusal(
    parts: &hyper::http::request::Parts,
    body: &[u8],
    refusal: Refusal,
) -> Response<Full<Bytes>> {
    let server = refusal == Refusal::ServerError;
    let text = String::from_utf8_lossy(body);
    let path = parts.uri.path();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let (status, content_type, error_type, body) = if header("x-amz-target").is_some()
        || header("content-type").is_some_and(|c| c.contains("json"))
        || path.starts_with("/clusters")
        || path.starts_with("/addons")
        || path.starts_with("/2015-02-01")
    {
        // JSON protocols (EKS and EFS's REST JSON, whose GETs carry no
        // content type; CloudWatch Logs, ACM, ECR): the code is a header.
        if server {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                Some("InternalFailure"),
                r#"{"__type":"InternalFailure","message":"internal failure"}"#.to_string(),
            )
        } else {
            (
                StatusCode::TOO_MANY_REQUESTS,
                "application/json",
                Some("ThrottlingException"),
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
            )
        }
    } else if text.contains("Version=2016-11-15") {
        // EC2's query protocol.
        (
            if server {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            },
            "text/xml",
            None,
            format!(
                "<Response><Errors><Error><Code>{}</Code><Message>refused by the proxy</Message></Error></Errors><RequestID>proxy</RequestID></Response>",
                if server {
                    "InternalError"
                } else {
                    "RequestLimitExceeded"
                }
            ),
        )
    } else if text.contains("Action=") || path.starts_with("/2013-04-01") {
        // IAM, STS, ELBv2 (query) and Route53 (REST XML).
        (
            if server {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            },
            "text/xml",
            None,
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{}</Code><Message>refused by the proxy</Message></Error><RequestId>proxy</RequestId></ErrorResponse>",
                if server { "Receiver" } else { "Sender" },
                if server {
                    "InternalFailure"
                } else {
                    "Throttling"
                }
            ),
        )
    } else {
        // S3.
        (
            if server {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            },
            "application/xml",
            None,
            format!(
                "<Error><Code>{}</Code><Message>refused by the proxy</Message></Error>",
                if server { "InternalError" } else { "SlowDown" }
            ),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        content_type.parse().expect("a header value"),
    );
    if let Some(error_type) = error_type {
        headers.insert(
            "x-amzn-errortype",
            error_type.parse().expect("a header value"),
        );
    }
    response
}

/// A fixed pseudo-random permutation of call numbers (splitmix64), so that
/// throttled calls fall anywhere, not on every n-th call of an operation.
fn scramble(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
