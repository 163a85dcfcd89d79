//! etcd 0.4's dashboard, `/mod/dashboard` (served with `--enable-mod`, beside the modules):
//! a key browser and the cluster's stats, as a single-page app on the v2 API. Serving follows
//! 0.4's `mod/dashboard`:
//! - `/mod/dashboard` redirects (302) to `/mod/dashboard/`;
//! - `/mod/dashboard/static/<file>` is an asset compiled into the binary, or `<file>: File not
//!   found` (404);
//! - every other `/mod/dashboard/…` is the app's page (it routes `browser` and `stats` itself);
//! - `ETCD_DASHBOARD_DIR=<dir>` serves `<dir>/index.html` and `<dir>/static/<file>` from disk
//!   instead, read at each request, for working on the app without rebuilding.
//!
//! The app itself (`dashboard/app.js`) replaces 0.4's AngularJS, Vega and CoreOS UI kit, which
//! cannot be shipped from here, with one dependency-free script.

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::super::{App, go_error_text};

const INDEX: &str = include_str!("dashboard/index.html");

/// The compiled-in assets: file name and bytes.
const ASSETS: &[(&str, &str)] = &[
    ("app.js", include_str!("dashboard/app.js")),
    ("app.css", include_str!("dashboard/app.css")),
];

const HTML: &str = "text/html; charset=utf-8";

pub fn routes() -> Router<App> {
    let dir = std::env::var_os("ETCD_DASHBOARD_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    let for_index = dir.clone();
    let index = move || {
        let dir = for_index.clone();
        async move { page(dir) }
    };
    Router::new()
        .route("/mod/dashboard", get(redirect))
        .route("/mod/dashboard/", get(index.clone()))
        .route(
            "/mod/dashboard/static/{*file}",
            get(move |Path(file): Path<String>| {
                let dir = dir.clone();
                async move { asset(dir, &file) }
            }),
        )
        .route("/mod/dashboard/{*route}", get(index))
}

/// Go's `http.Redirect` for a GET: 302 and its short HTML body.
async fn redirect() -> Response {
    let to = "/mod/dashboard/";
    let mut resp = (
        StatusCode::FOUND,
        format!("<a href=\"{to}\">Found</a>.\n\n"),
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_static("/mod/dashboard/"),
    );
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(HTML));
    resp
}

fn page(dir: Option<PathBuf>) -> Response {
    match dir {
        None => typed(HTML, Body::from(INDEX)),
        Some(dir) => from_disk(dir.join("index.html"), "index.html", HTML),
    }
}

fn asset(dir: Option<PathBuf>, file: &str) -> Response {
    let shown = format!("static/{file}");
    // Only plain names below static/: no way out of the directory.
    let plain = !file.is_empty() && file.split('/').all(|p| !p.is_empty() && p != "..");
    let content_type = content_type(file);
    match (dir, plain) {
        (_, false) => not_found(&shown),
        (None, true) => match ASSETS.iter().find(|(name, _)| *name == file) {
            Some((_, body)) => typed(content_type, Body::from(*body)),
            None => not_found(&shown),
        },
        (Some(dir), true) => from_disk(dir.join("static").join(file), &shown, content_type),
    }
}

fn from_disk(path: PathBuf, shown: &str, content_type: &'static str) -> Response {
    match std::fs::read(&path) {
        Ok(body) => typed(content_type, Body::from(body)),
        Err(_) => not_found(shown),
    }
}

fn not_found(shown: &str) -> Response {
    go_error_text(StatusCode::NOT_FOUND, format!("{shown}: File not found\n"))
}

/// `body` (compiled-in assets are served without a copy) as `content_type`.
fn typed(content_type: &'static str, body: Body) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Go's `mime.TypeByExtension` for what a dashboard holds.
fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => HTML,
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
