//! `/v2/keys`: reads, writes, long-poll and stream watches (etcd: v2http/client.go
//! `keysHandler`, `writeKeyEvent`, `handleKeyWatch`).

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use etcd_common::Action;
use etcd_common::headers::{CLUSTER_ID, ETCD_INDEX, RAFT_INDEX, RAFT_TERM};
use futures::StreamExt;

use super::App;
use super::credentials;
use super::error::error_response;
use super::form::{self, Method};
use super::json;
use super::request::KeyRequest;
use crate::cluster::Cluster;
use crate::store::{Event, Node, Watch};
use crate::time;

const PREFIX: &str = "/v2/keys";

pub fn routes() -> Router<App> {
    Router::new()
        .route(PREFIX, any(handle))
        .route("/v2/keys/", any(handle))
        .route("/v2/keys/{*key}", any(handle))
}

async fn handle(State(app): State<App>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // Go's ServeMux answers a non-canonical path with a redirect before any handler runs.
    let raw_path = parts.uri.path();
    let Ok(decoded) = form::unescape(raw_path, false) else {
        return (StatusCode::BAD_REQUEST, "400 Bad Request").into_response();
    };
    // Only `/` and `.` decide canonical form, and lossy decoding never touches ASCII, so the
    // text view answers for the bytes; the key itself stays bytes.
    let text = String::from_utf8_lossy(&decoded);
    let canonical = etcd_common::go::path::canonical_url_path(&text);
    if canonical != text {
        return redirect(&canonical, parts.uri.query(), &parts.method);
    }
    // CORS preflight: etcd's CORS wrapper answers OPTIONS itself with an empty 200.
    if parts.method == axum::http::Method::OPTIONS {
        return StatusCode::OK.into_response();
    }
    let Some(method) = Method::parse(parts.method.as_str()) else {
        return super::method_not_allowed("HEAD,GET,PUT,POST,DELETE");
    };
    let key = decoded.get(PREFIX.len()..).unwrap_or_default();
    let form = form::read_form(method, &parts, body).await;
    let mut resp = serve(&app, method, key, &parts, form).await;
    resp.headers_mut()
        .insert(CLUSTER_ID, app.cluster_id_header.clone());
    resp
}

async fn serve(
    app: &App,
    method: Method,
    key: &[u8],
    parts: &axum::http::request::Parts,
    form: Result<form::Form, etcd_common::EtcdError>,
) -> Response {
    let (req, recursive) = match form.and_then(|form| {
        let recursive = form.boolean("recursive").unwrap_or(false);
        KeyRequest::parse(method, key, form).map(|r| (r, recursive))
    }) {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    let write = !matches!(method, Method::Get | Method::Head);
    let caller = credentials::Caller::new(&parts.headers, &parts.extensions);
    if let Err(refused) = credentials::authorize_key(app, caller, write, key, recursive).await {
        return refused;
    }
    let cluster = &app.cluster;
    match req {
        KeyRequest::Watch {
            key,
            recursive,
            stream,
            wait_index,
        } => watch(app, &key, recursive, stream, wait_index),
        KeyRequest::Get {
            key,
            recursive,
            sorted,
            quorum,
        } => {
            if quorum && let Err(e) = cluster.linearize().await {
                return error_response(&e);
            }
            match cluster.get(&key, recursive, sorted, time::now()) {
                // For HEAD hyper sends the headers (Content-Length included) and drops the body.
                Ok(event) => event_response(cluster, &event, cluster.raft_index(), false),
                Err(e) => error_response(&e),
            }
        }
        KeyRequest::Write(w) => {
            let no_value = w.no_value_on_success;
            match cluster.propose(w.into_command(time::now())).await {
                Ok(w) => event_response(cluster, &w.event, w.raft_index, no_value),
                Err(e) => error_response(&e),
            }
        }
    }
}

/// The wire shape of [`etcd_common::Response`], borrowing the event's nodes: the body of
/// every key response and watch event is serialized straight from the event, not a copy
/// (invalid UTF-8 in keys and values becomes Go's `\ufffd` in [`json`]).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct EventBody<'a> {
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a Node>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_node: Option<&'a Node>,
}

impl<'a> EventBody<'a> {
    fn of(e: &'a Event) -> EventBody<'a> {
        EventBody {
            action: e.action,
            node: Some(&e.node),
            prev_node: e.prev_node.as_ref(),
        }
    }
}

/// The JSON line of the event last sent to a watcher. The watchers of one write all receive
/// the same `Arc<Event>`, so 10,000 of them cost one rendering, not 10,000.
#[derive(Default)]
pub struct LastWatchLine(Mutex<Option<(Arc<Event>, Bytes)>>);

impl LastWatchLine {
    fn of(&self, e: &Arc<Event>) -> Bytes {
        let mut last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, line)) = last.as_ref()
            && Arc::ptr_eq(seen, e)
        {
            return line.clone();
        }
        let line = Bytes::from(json::to_line(&EventBody::of(e)));
        *last = Some((e.clone(), line.clone()));
        line
    }
}

/// etcd: `writeKeyEvent`.
fn event_response(cluster: &Cluster, e: &Event, raft_index: u64, no_value: bool) -> Response {
    let mut body = EventBody::of(e);
    if no_value
        && matches!(
            e.action,
            Action::Set | Action::CompareAndSwap | Action::Create | Action::Update
        )
    {
        body.node = None;
        body.prev_node = None;
    }
    let status = if e.is_created() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, json::to_line(&body)).into_response();
    set_headers(
        resp.headers_mut(),
        e.etcd_index,
        raft_index,
        cluster.raft_term(),
    );
    resp
}

fn set_headers(h: &mut HeaderMap, etcd_index: u64, raft_index: u64, term: u64) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(ETCD_INDEX, HeaderValue::from(etcd_index));
    h.insert(RAFT_INDEX, HeaderValue::from(raft_index));
    h.insert(RAFT_TERM, HeaderValue::from(term));
}

/// Removes the watcher from the hub when the response body is dropped — which is how a client
/// disconnect shows up — so abandoned long-polls never pile up.
struct WatchGuard {
    cluster: Arc<Cluster>,
    id: u64,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.cluster.unwatch(self.id);
    }
}

/// etcd: `handleKeyWatch`. Headers go out at once; each event is one JSON line; a non-stream
/// watch ends after its first event.
fn watch(app: &App, key: &[u8], recursive: bool, stream: bool, wait_index: u64) -> Response {
    let cluster = &app.cluster;
    let registered = cluster.watch(key, recursive, stream, wait_index);
    let Watch {
        id,
        start_index,
        events,
    } = match registered {
        Ok(w) => w,
        Err(e) => return error_response(&e),
    };
    let guard = WatchGuard {
        cluster: cluster.clone(),
        id,
    };
    let lines = app.last_watch_line.clone();
    let body = futures::stream::unfold(
        (events, guard, lines, false),
        move |(mut events, guard, lines, done)| async move {
            if done {
                return None;
            }
            let e = events.recv().await?;
            let line = lines.of(&e);
            Some((
                Ok::<_, std::io::Error>(line),
                (events, guard, lines, !stream),
            ))
        },
    )
    .take_until(app.shutdown.clone().cancelled_owned());
    let mut resp = Response::new(Body::from_stream(body));
    set_headers(
        resp.headers_mut(),
        start_index,
        cluster.raft_index(),
        cluster.raft_term(),
    );
    resp
}

fn redirect(to: &str, query: Option<&str>, method: &axum::http::Method) -> Response {
    let location = match query {
        Some(q) => format!("{to}?{q}"),
        None => to.to_string(),
    };
    let body = if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        format!(
            "<a href=\"{}\">Moved Permanently</a>.\n\n",
            html_escape(&location)
        )
    } else {
        String::new()
    };
    let body_is_empty = body.is_empty();
    let mut resp = (StatusCode::MOVED_PERMANENTLY, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    // Go's http.Redirect writes an HTML body (and says so) only for GET and HEAD.
    if body_is_empty {
        resp.headers_mut().remove(header::CONTENT_TYPE);
    } else {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
    }
    resp
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}
