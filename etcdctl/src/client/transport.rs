//! One HTTP exchange with one endpoint: the `--debug` cURL line, credentials, the per-request
//! header timeout, and reading a long-poll body up to its first event.

use futures::StreamExt;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::Client;
use super::endpoint::Endpoint;
use super::error::{ClientError, EndpointError, map_reqwest_error};
use super::requests::{Action, Body, header_u64};

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Client {
    pub(crate) async fn send_one(
        &self,
        ep: &Endpoint,
        deadline: Option<Instant>,
        action: &Action,
    ) -> Result<HttpResponse, ClientError> {
        let url = ep.url(&action.path, &action.query);
        if self.debug {
            let mut line = format!("cURL Command: curl -X {} {}", action.method, url);
            if let Some(Body::Form(b) | Body::Json(b)) = &action.body {
                line.push_str(&format!(" -d {}", etcd_common::go::strconv::quote(b)));
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
