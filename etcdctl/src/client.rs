//! The HTTP side of etcdctl: endpoints, failover across members, per-request and total timeouts,
//! cluster sync, `--debug` cURL lines, and the v2 keys/members requests.
//!
//! This mirrors etcd's Go `client` package (client/client.go, keys.go, members.go) closely because
//! etcdctl's messages and exit codes are shaped by it: a request is tried on every endpoint in turn
//! (starting from the pinned one) and fails with a `ClusterError` listing each endpoint's failure;
//! create (`prevExist=false`) and delete requests are "one shot" and report the first failure as is.
//! Never prints anything except the `--debug` cURL lines.

use std::fmt;
use std::time::Duration;

use etcd_common::{ErrorBody, Member, Response};
use futures::StreamExt;
use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// Why one endpoint failed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    pub message: String,
    /// Go's `isConnectionError`: a dial/read failure or a timeout, as opposed to e.g. a 5xx.
    pub connection: bool,
}

/// A failed request, displayed exactly as etcdctl's Go client formats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server answered with a v2 error body.
    Etcd(ErrorBody),
    /// Every endpoint failed (`client: etcd cluster is unavailable or misconfigured; …`).
    Cluster(Vec<EndpointError>),
    /// A one-shot request failed on the endpoint it was sent to.
    Endpoint(EndpointError),
    /// `--total-timeout` elapsed.
    DeadlineExceeded,
    /// Sync found no published client URLs.
    NoEndpoints,
    EmptyBody,
    InvalidJson,
    /// Anything else, already formatted.
    Other(String),
}

impl ClientError {
    /// Go's `isConnectionError`, which decides between exit codes 2 and 4 after a failed sync.
    pub fn is_connection_error(&self) -> bool {
        match self {
            ClientError::Cluster(errs) => errs.iter().all(|e| e.connection),
            ClientError::Endpoint(e) => e.connection,
            ClientError::DeadlineExceeded => true,
            _ => false,
        }
    }

    /// The extra lines etcdctl prints after a `ClusterError` (`ClusterError.Detail()`).
    pub fn detail(&self) -> Option<String> {
        match self {
            ClientError::Cluster(errs) => {
                let mut s = String::new();
                for (i, e) in errs.iter().enumerate() {
                    s.push_str(&format!("error #{i}: {}\n", e.message));
                }
                Some(s)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Etcd(b) => write!(f, "{b}"),
            ClientError::Cluster(errs) => {
                f.write_str("client: etcd cluster is unavailable or misconfigured")?;
                for (i, e) in errs.iter().enumerate() {
                    writeln!(f, "; error #{i}: {}", e.message)?;
                }
                Ok(())
            }
            ClientError::Endpoint(e) => f.write_str(&e.message),
            ClientError::DeadlineExceeded => f.write_str("context deadline exceeded"),
            ClientError::NoEndpoints => f.write_str("client: no endpoints available"),
            ClientError::EmptyBody => f.write_str("client: response body is empty"),
            ClientError::InvalidJson => f.write_str(
                "client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint",
            ),
            ClientError::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for ClientError {}

/// One endpoint: `http://127.0.0.1:2379` split into what requests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// As etcdctl prints it (`Cluster-Endpoints: …`, error messages).
    pub text: String,
    /// `scheme://authority`.
    base: String,
    /// The endpoint's own path (usually empty).
    path: String,
    /// `host:port` for Go-style dial error messages.
    host_port: String,
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let text = if s.contains("://") {
            s.to_string()
        } else {
            format!("http://{s}")
        };
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("parse {s:?}: invalid URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(format!("parse {s:?}: missing host"));
        }
        let host_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            authority.to_string()
        } else if scheme == "https" {
            format!("{authority}:443")
        } else {
            format!("{authority}:80")
        };
        let host_port = host_port.replacen("localhost:", "127.0.0.1:", 1);
        Ok(Endpoint {
            base: format!("{scheme}://{authority}"),
            path: path.to_string(),
            host_port,
            text,
        })
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut u = format!(
            "{}{}",
            self.base,
            escape_path(&canonical_url_path(&format!("{}{}", self.path, path)))
        );
        if !query.is_empty() {
            u.push('?');
            u.push_str(&encode_values(query));
        }
        u
    }
}

/// A request body, as the Go client sends it.
#[derive(Debug, Clone)]
pub enum Body {
    Form(String),
    Json(String),
}

/// One HTTP request against "some member": the path is relative to the endpoint.
#[derive(Debug, Clone)]
pub struct Action {
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Body>,
    /// A long-poll: exempt from the per-request header timeout; the body ends at the first newline.
    pub wait: bool,
}

impl Action {
    fn new(method: Method, path: String) -> Action {
        Action {
            method,
            path,
            query: Vec::new(),
            body: None,
            wait: false,
        }
    }
}

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A parsed key-space answer with etcd's index headers.
#[derive(Debug, Clone)]
pub struct KeyResponse {
    pub body: Response,
    pub etcd_index: u64,
    pub raft_index: Option<u64>,
    pub raft_term: Option<u64>,
}

/// How etcdctl was asked to connect.
#[derive(Debug, Clone)]
pub struct Config {
    pub endpoints: Vec<String>,
    pub header_timeout: Duration,
    pub total_timeout: Duration,
    pub debug: bool,
    pub credentials: Option<(String, String)>,
}

/// The cluster client: an ordered endpoint list with a pinned (last good) member.
pub struct Client {
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    pinned: usize,
    header_timeout: Duration,
    pub total_timeout: Duration,
    debug: bool,
    credentials: Option<(String, String)>,
    /// X-Etcd-Index of the last long-poll whose headers arrived (the watcher's start index).
    wait_index: std::cell::Cell<Option<u64>>,
}

impl Client {
    pub fn new(cfg: Config) -> Result<Client, String> {
        let endpoints = cfg
            .endpoints
            .iter()
            .map(|e| Endpoint::parse(e))
            .collect::<Result<Vec<_>, _>>()?;
        // etcd: etcdctl getTransport — dial timeout is min(30s, total-timeout).
        let mut dial = Duration::from_secs(30);
        if !cfg.total_timeout.is_zero() && cfg.total_timeout < dial {
            dial = cfg.total_timeout;
        }
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(dial)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Client {
            http,
            endpoints,
            pinned: 0,
            header_timeout: cfg.header_timeout,
            total_timeout: cfg.total_timeout,
            debug: cfg.debug,
            credentials: cfg.credentials,
            wait_index: std::cell::Cell::new(None),
        })
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.text.clone()).collect()
    }

    /// The X-Etcd-Index reported by the most recent long-poll, once.
    pub fn take_wait_index(&self) -> Option<u64> {
        self.wait_index.take()
    }

    /// A deadline `--total-timeout` from now (Go's context.WithTimeout: zero expires at once).
    pub fn total_deadline(&self) -> Option<Instant> {
        Some(Instant::now() + self.total_timeout)
    }

    /// etcd: client.go httpClusterClient.Do — try each endpoint starting from the pinned one.
    pub async fn send(
        &mut self,
        deadline: Option<Instant>,
        action: &Action,
        one_shot: bool,
    ) -> Result<HttpResponse, ClientError> {
        let n = self.endpoints.len();
        if n == 0 {
            return Err(ClientError::NoEndpoints);
        }
        let pinned = self.pinned;
        let mut errors: Vec<EndpointError> = Vec::new();
        for i in pinned..pinned + n {
            let k = i % n;
            let ep = self.endpoints[k].clone();
            let err = match self.send_one(&ep, deadline, action).await {
                Err(ClientError::DeadlineExceeded) => return Err(ClientError::DeadlineExceeded),
                Err(ClientError::Endpoint(e)) => {
                    errors.push(e);
                    true
                }
                Err(other) => return Err(other),
                Ok(resp) if resp.status / 100 == 5 => {
                    let message = match resp.status {
                        500 | 503 => format!("client: etcd member {} has no leader", ep.text),
                        s => format!(
                            "client: etcd member {} returns server error [{}]",
                            ep.text,
                            status_text(s)
                        ),
                    };
                    errors.push(EndpointError {
                        message,
                        connection: false,
                    });
                    true
                }
                Ok(resp) => {
                    self.pinned = k;
                    return Ok(resp);
                }
            };
            if err && one_shot {
                self.pinned = (k + 1) % n;
                // Go returns the first error collected (which is this endpoint's).
                return Err(ClientError::Endpoint(errors.swap_remove(0)));
            }
        }
        Err(ClientError::Cluster(errors))
    }

    async fn send_one(
        &self,
        ep: &Endpoint,
        deadline: Option<Instant>,
        action: &Action,
    ) -> Result<HttpResponse, ClientError> {
        let url = ep.url(&action.path, &action.query);
        if self.debug {
            let mut line = format!("cURL Command: curl -X {} {}", action.method, url);
            if let Some(Body::Form(b) | Body::Json(b)) = &action.body {
                line.push_str(&format!(" -d {}", go_quote(b)));
            }
            eprintln!("{line}");
        }
        let mut req = self.http.request(action.method.clone(), &url);
        match &action.body {
            Some(Body::Form(b)) => {
                req = req
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(b.clone());
            }
            Some(Body::Json(b)) => {
                req = req
                    .header("Content-Type", "application/json")
                    .body(b.clone());
            }
            None => {}
        }
        if let Some((u, p)) = &self.credentials {
            req = req.basic_auth(u, Some(p));
        }
        let header_deadline = if !action.wait && !self.header_timeout.is_zero() {
            Some(Instant::now() + self.header_timeout)
        } else {
            None
        };
        let limit = match (header_deadline, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let sent = match limit {
            Some(l) => match tokio::time::timeout_at(l, req.send()).await {
                Ok(r) => r,
                Err(_) => {
                    if deadline.is_some_and(|d| d <= Instant::now()) {
                        return Err(ClientError::DeadlineExceeded);
                    }
                    return Err(ClientError::Endpoint(EndpointError {
                        message: format!("client: endpoint {} exceeded header timeout", ep.text),
                        connection: false,
                    }));
                }
            },
            None => req.send().await,
        };
        let resp = sent.map_err(|e| ClientError::Endpoint(map_reqwest_error(&e, ep)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if action.wait && status == 200 {
            self.wait_index
                .set(header_u64(&headers, etcd_common::headers::ETCD_INDEX));
        }
        let read = read_body(resp, action.wait);
        let body = match deadline {
            Some(d) => tokio::time::timeout_at(d, read)
                .await
                .map_err(|_| ClientError::DeadlineExceeded)?,
            None => read.await,
        }
        .map_err(|e| ClientError::Endpoint(map_reqwest_error(&e, ep)))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    /// etcd: client.go Sync — replace the endpoints with the members' client URLs.
    pub async fn sync(&mut self, deadline: Option<Instant>) -> Result<(), ClientError> {
        let members = self.member_list(deadline).await?;
        let urls: Vec<String> = members
            .iter()
            .flat_map(|m| m.client_urls.iter().cloned())
            .collect();
        if urls.is_empty() {
            return Err(ClientError::NoEndpoints);
        }
        let mut now: Vec<String> = self.endpoints();
        let mut new = urls.clone();
        now.sort();
        new.sort();
        if now == new {
            return Ok(());
        }
        let eps = urls
            .iter()
            .map(|u| Endpoint::parse(u))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ClientError::Other)?;
        self.endpoints = eps;
        self.pinned = 0;
        Ok(())
    }

    // ---- key space ----------------------------------------------------------------------

    pub async fn key_request(
        &mut self,
        deadline: Option<Instant>,
        action: &Action,
        one_shot: bool,
    ) -> Result<KeyResponse, ClientError> {
        let resp = self.send(deadline, action, one_shot).await?;
        parse_key_response(&resp)
    }

    // ---- members ------------------------------------------------------------------------

    pub async fn member_list(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Vec<Member>, ClientError> {
        let action = Action::new(Method::GET, "/v2/members".into());
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[200])?;
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            members: Option<Vec<Member>>,
        }
        let list: List =
            serde_json::from_slice(&resp.body).map_err(|e| ClientError::Other(e.to_string()))?;
        Ok(list.members.unwrap_or_default())
    }

    pub async fn member_leader(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Member, ClientError> {
        let action = Action::new(Method::GET, "/v2/members/leader".into());
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[200])?;
        serde_json::from_slice(&resp.body).map_err(|e| ClientError::Other(e.to_string()))
    }

    pub async fn member_add(
        &mut self,
        deadline: Option<Instant>,
        peer_url: &str,
    ) -> Result<Member, ClientError> {
        let mut action = Action::new(Method::POST, "/v2/members".into());
        action.body = Some(Body::Json(peer_urls_json(&[peer_url.to_string()])));
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[201, 409])?;
        if resp.status != 201 {
            return Err(members_error(&resp.body));
        }
        serde_json::from_slice(&resp.body).map_err(|e| ClientError::Other(e.to_string()))
    }

    pub async fn member_remove(
        &mut self,
        deadline: Option<Instant>,
        id: &str,
    ) -> Result<(), ClientError> {
        let action = Action::new(Method::DELETE, join_path("/v2/members", id));
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[204, 410])
    }

    pub async fn member_update(
        &mut self,
        deadline: Option<Instant>,
        id: &str,
        peer_urls: &[String],
    ) -> Result<(), ClientError> {
        let mut action = Action::new(Method::PUT, join_path("/v2/members", id));
        action.body = Some(Body::Json(peer_urls_json(peer_urls)));
        let resp = self.send(deadline, &action, false).await?;
        assert_status(resp.status, &[204, 404, 409])?;
        if resp.status != 204 {
            return Err(members_error(&resp.body));
        }
        Ok(())
    }

    /// A plain GET with no failover and no debug line (cluster-health's `/health` probe).
    pub async fn probe(&self, url: &str) -> Result<Vec<u8>, String> {
        let ep = Endpoint::parse(url)?;
        let full = format!("{url}/health");
        let resp = self
            .http
            .get(&full)
            .send()
            .await
            .map_err(|e| format!("Get {full:?}: {}", map_reqwest_error(&e, &ep).message))?;
        resp.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| format!("Get {full:?}: {}", map_reqwest_error(&e, &ep).message))
    }
}

/// Read a body; for a long-poll stop at the first complete line (one event).
async fn read_body(resp: reqwest::Response, wait: bool) -> Result<Vec<u8>, reqwest::Error> {
    if !wait {
        return resp.bytes().await.map(|b| b.to_vec());
    }
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
        if out.contains(&b'\n') {
            break;
        }
    }
    Ok(out)
}

/// etcd: keys.go unmarshalHTTPResponse.
pub fn parse_key_response(resp: &HttpResponse) -> Result<KeyResponse, ClientError> {
    match resp.status {
        200 | 201 => {
            if resp.body.is_empty() {
                return Err(ClientError::EmptyBody);
            }
            let body: Response =
                serde_json::from_slice(&resp.body).map_err(|_| ClientError::InvalidJson)?;
            Ok(KeyResponse {
                body,
                etcd_index: header_u64(&resp.headers, etcd_common::headers::ETCD_INDEX)
                    .unwrap_or(0),
                raft_index: header_u64(&resp.headers, etcd_common::headers::RAFT_INDEX),
                raft_term: header_u64(&resp.headers, etcd_common::headers::RAFT_TERM),
            })
        }
        _ => {
            let body: ErrorBody =
                serde_json::from_slice(&resp.body).map_err(|_| ClientError::InvalidJson)?;
            Err(ClientError::Etcd(body))
        }
    }
}

pub fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn assert_status(got: u16, want: &[u16]) -> Result<(), ClientError> {
    if want.contains(&got) {
        Ok(())
    } else {
        Err(ClientError::Other(format!("unexpected status code {got}")))
    }
}

fn members_error(body: &[u8]) -> ClientError {
    #[derive(serde::Deserialize)]
    struct MembersError {
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<MembersError>(body) {
        Ok(m) => ClientError::Other(m.message),
        Err(e) => ClientError::Other(e.to_string()),
    }
}

fn peer_urls_json(urls: &[String]) -> String {
    #[derive(serde::Serialize)]
    struct Req<'a> {
        #[serde(rename = "peerURLs")]
        peer_urls: &'a [String],
    }
    let mut sorted = urls.to_vec();
    sorted.sort();
    go_json(&Req { peer_urls: &sorted })
}

// ---- request builders (etcd: client/keys.go *Action.HTTPRequest) ---------------------------

fn keys_path(key: &str) -> String {
    if key.is_empty() || key.starts_with('/') {
        format!("/v2/keys{key}")
    } else {
        format!("/v2/keys/{key}")
    }
}

pub fn get_action(key: &str, recursive: bool, sorted: bool, quorum: bool) -> Action {
    let mut a = Action::new(Method::GET, keys_path(key));
    a.query = vec![
        ("quorum", quorum.to_string()),
        ("recursive", recursive.to_string()),
        ("sorted", sorted.to_string()),
    ];
    a
}

pub fn wait_action(key: &str, wait_index: u64, recursive: bool) -> Action {
    let mut a = Action::new(Method::GET, keys_path(key));
    a.query = vec![
        ("recursive", recursive.to_string()),
        ("wait", "true".into()),
        ("waitIndex", wait_index.to_string()),
    ];
    a.wait = true;
    a
}

/// `prevExist`: None = ignore, Some(true) = must exist, Some(false) = must not exist.
#[derive(Debug, Clone, Default)]
pub struct SetOptions {
    pub prev_value: String,
    pub prev_index: u64,
    pub prev_exist: Option<bool>,
    pub ttl: i64,
    pub dir: bool,
}

pub fn set_action(key: &str, value: &str, opts: &SetOptions) -> Action {
    let mut a = Action::new(Method::PUT, keys_path(key));
    let mut form: Vec<(&'static str, String)> = Vec::new();
    if opts.dir {
        a.query.push(("dir", "true".into()));
    } else {
        if !opts.prev_value.is_empty() {
            a.query.push(("prevValue", opts.prev_value.clone()));
        }
        form.push(("value", value.to_string()));
    }
    if opts.prev_index != 0 {
        a.query.push(("prevIndex", opts.prev_index.to_string()));
    }
    if let Some(e) = opts.prev_exist {
        a.query.push(("prevExist", e.to_string()));
    }
    if opts.ttl > 0 {
        form.push(("ttl", opts.ttl.to_string()));
    }
    a.body = Some(Body::Form(encode_values(&form)));
    a
}

pub fn create_in_order_action(dir: &str, value: &str, ttl: i64) -> Action {
    let mut a = Action::new(Method::POST, keys_path(dir));
    let mut form = vec![("value", value.to_string())];
    if ttl > 0 {
        form.push(("ttl", ttl.to_string()));
    }
    a.body = Some(Body::Form(encode_values(&form)));
    a
}

#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub prev_value: String,
    pub prev_index: u64,
    pub dir: bool,
    pub recursive: bool,
}

pub fn delete_action(key: &str, opts: &DeleteOptions) -> Action {
    let mut a = Action::new(Method::DELETE, keys_path(key));
    if !opts.prev_value.is_empty() {
        a.query.push(("prevValue", opts.prev_value.clone()));
    }
    if opts.prev_index != 0 {
        a.query.push(("prevIndex", opts.prev_index.to_string()));
    }
    if opts.dir {
        a.query.push(("dir", "true".into()));
    }
    if opts.recursive {
        a.query.push(("recursive", "true".into()));
    }
    a
}

// ---- Go compatibility helpers --------------------------------------------------------------

/// Go's `url.Values.Encode`: keys sorted, `QueryEscape`d.
pub fn encode_values(values: &[(&str, String)]) -> String {
    let mut v: Vec<&(&str, String)> = values.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v.iter()
        .map(|(k, val)| format!("{}={}", query_escape(k), query_escape(val)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.URL.EscapedPath` for a path without a RawPath.
pub fn escape_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'$'
            | b'&'
            | b'+'
            | b','
            | b'/'
            | b':'
            | b';'
            | b'='
            | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// etcd: pkg/pathutil CanonicalURLPath — `path.Clean`, keeping a trailing slash.
pub fn canonical_url_path(p: &str) -> String {
    if p.is_empty() {
        return "/".into();
    }
    let p = if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    };
    let mut np = go_path_clean(&p);
    if p.ends_with('/') && np != "/" {
        np.push('/');
    }
    np
}

/// Go's `path.Clean` for rooted paths.
fn go_path_clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Go's `path.Join(base, elem)` for our two uses (member paths).
fn join_path(base: &str, elem: &str) -> String {
    go_path_clean(&format!("{base}/{elem}"))
}

/// Go's `%q` for a string.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `encoding/json.Marshal`: serde_json plus Go's HTML-safe escaping of `<`, `>`, `&`, U+2028/9.
pub fn go_json<T: serde::Serialize>(v: &T) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Describe a transport failure the way Go's net package would.
fn map_reqwest_error(e: &reqwest::Error, ep: &Endpoint) -> EndpointError {
    let io = io_error_in(e);
    let reason = match io {
        Some(k) => io_reason(k),
        None if e.is_timeout() => "i/o timeout".to_string(),
        None => {
            return EndpointError {
                message: e.to_string(),
                connection: e.is_connect() || e.is_body() || e.is_request(),
            };
        }
    };
    let message = if e.is_connect() {
        format!("dial tcp {}: connect: {reason}", ep.host_port)
    } else if reason == "unexpected EOF" {
        reason
    } else {
        format!("read tcp {}: read: {reason}", ep.host_port)
    };
    EndpointError {
        message,
        connection: true,
    }
}

fn io_error_in(e: &reqwest::Error) -> Option<&std::io::Error> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        src = s.source();
    }
    None
}

fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by peer".into(),
        TimedOut => "i/o timeout".into(),
        UnexpectedEof => "unexpected EOF".into(),
        HostUnreachable => "no route to host".into(),
        NetworkUnreachable => "network is unreachable".into(),
        _ => {
            let s = e.to_string();
            let s = match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            };
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    }
}

/// Go's `http.StatusText` for the 5xx codes that reach the failover loop.
fn status_text(code: u16) -> &'static str {
    match code {
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_match_go_client() {
        let ep = Endpoint::parse("http://127.0.0.1:2379").unwrap();
        let a = get_action("/c", false, false, false);
        assert_eq!(
            ep.url(&a.path, &a.query),
            "http://127.0.0.1:2379/v2/keys/c?quorum=false&recursive=false&sorted=false"
        );
        let a = get_action("/", true, true, true);
        assert_eq!(
            ep.url(&a.path, &a.query),
            "http://127.0.0.1:2379/v2/keys/?quorum=true&recursive=true&sorted=true"
        );
        let a = get_action("/a b/ü?x#y*(z)!~", false, false, false);
        assert_eq!(
            ep.url(&a.path, &[]),
            "http://127.0.0.1:2379/v2/keys/a%20b/%C3%BC%3Fx%23y%2A%28z%29%21~"
        );
        let a = get_action("//a/../k", false, false, false);
        assert_eq!(ep.url(&a.path, &[]), "http://127.0.0.1:2379/v2/keys/k");
        let a = delete_action(
            "/zz",
            &DeleteOptions {
                prev_value: "a b".into(),
                prev_index: 3,
                dir: true,
                recursive: true,
            },
        );
        assert_eq!(
            ep.url(&a.path, &a.query),
            "http://127.0.0.1:2379/v2/keys/zz?dir=true&prevIndex=3&prevValue=a+b&recursive=true"
        );
    }

    #[test]
    fn form_bodies_match_go_client() {
        let a = create_in_order_action("/q", "x y", 5);
        match a.body {
            Some(Body::Form(b)) => assert_eq!(b, "ttl=5&value=x+y"),
            _ => panic!("no body"),
        }
        let a = set_action(
            "/dbg",
            "",
            &SetOptions {
                dir: true,
                prev_exist: Some(false),
                ..SetOptions::default()
            },
        );
        assert_eq!(
            a.query,
            vec![("dir", "true".into()), ("prevExist", "false".into())]
        );
        match a.body {
            Some(Body::Form(b)) => assert_eq!(b, ""),
            _ => panic!("no body"),
        }
        assert_eq!(go_quote("value=a+b%26c"), "\"value=a+b%26c\"");
        assert_eq!(
            peer_urls_json(&["http://127.0.0.1:2380".into()]),
            r#"{"peerURLs":["http://127.0.0.1:2380"]}"#
        );
    }

    #[test]
    fn cluster_error_text() {
        let e = ClientError::Cluster(vec![
            EndpointError {
                message: "dial tcp 127.0.0.1:2: connect: connection refused".into(),
                connection: true,
            },
            EndpointError {
                message: "dial tcp 127.0.0.1:1: connect: connection refused".into(),
                connection: true,
            },
        ]);
        assert_eq!(
            e.to_string(),
            "client: etcd cluster is unavailable or misconfigured; error #0: dial tcp 127.0.0.1:2: connect: connection refused\n; error #1: dial tcp 127.0.0.1:1: connect: connection refused\n"
        );
        assert!(e.is_connection_error());
    }
}
