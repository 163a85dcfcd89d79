//! The v2 key-space requests, built exactly as the Go client builds them (etcd: client/keys.go
//! `*Action.HTTPRequest`, `unmarshalHTTPResponse`).

use etcd_common::go::url::encode_values;
use etcd_common::{ErrorBody, Response};
use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::Client;
use super::error::ClientError;
use super::transport::HttpResponse;

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
    pub(crate) fn new(method: Method, path: String) -> Action {
        Action {
            method,
            path,
            query: Vec::new(),
            body: None,
            wait: false,
        }
    }
}

/// A parsed key-space answer with etcd's index headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyResponse {
    pub body: Response,
    /// `X-Etcd-Index`: the store's index when the answer was made (0 if absent).
    pub etcd_index: u64,
    /// `X-Raft-Index` and `X-Raft-Term`, which only quorum reads and writes carry.
    pub raft_index: Option<u64>,
    pub raft_term: Option<u64>,
}

impl Client {
    pub async fn key_request(
        &mut self,
        deadline: Option<Instant>,
        action: &Action,
        one_shot: bool,
    ) -> Result<KeyResponse, ClientError> {
        let resp = self.send(deadline, action, one_shot).await?;
        parse_key_response(&resp)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Endpoint;

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
    }
}
