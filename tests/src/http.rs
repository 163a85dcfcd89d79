//! Blocking HTTP for tests: every request keeps its status, headers and body verbatim, and
//! [`raw_http`] sends bytes an HTTP client would tidy up first.

use std::time::Duration;

/// One HTTP answer, kept verbatim.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// X-Etcd-Index as a number.
    pub fn etcd_index(&self) -> u64 {
        self.header("X-Etcd-Index")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no X-Etcd-Index in {:?}", self.headers))
    }
}

fn http() -> &'static reqwest::blocking::Client {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client")
    })
}

/// Any request; `body` is sent as a form when given.
pub fn request(method: &str, url: &str, form: Option<&[(&str, &str)]>) -> Resp {
    try_request(method, url, form).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

pub fn try_request(
    method: &str,
    url: &str,
    form: Option<&[(&str, &str)]>,
) -> Result<Resp, reqwest::Error> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http().request(method, url);
    if let Some(form) = form {
        req = req.form(form);
    }
    into_resp(req.send()?)
}

/// A request with a raw body and content type.
pub fn request_raw(method: &str, url: &str, content_type: &str, body: Vec<u8>) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let resp = http()
        .request(method, url)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    into_resp(resp).unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// A response, read to the end, as a [`Resp`].
pub fn into_resp(resp: reqwest::blocking::Response) -> Result<Resp, reqwest::Error> {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp.text()?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// Send `request` verbatim (a full HTTP/1.1 request; add `Connection: close`) to `addr` and
/// read the answer to the end. For what an HTTP client would tidy up first: `..` segments,
/// bad escapes in the path, HEAD answers with their exact headers.
pub fn raw_http(addr: &str, request: &[u8]) -> Resp {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request).expect("write");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_raw_response(&raw)
}

fn parse_raw_response(raw: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {text:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// Send one request (`form` as a form body) with its own timeout, on a client that follows no
/// redirects; the raw outcome, so callers can tell a refused connection from a lost answer.
pub fn send_raw(
    url: &str,
    method: &str,
    form: Option<&[(&str, &str)]>,
    timeout: Duration,
) -> reqwest::Result<reqwest::blocking::Response> {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::blocking::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client")
    });
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(method, url).timeout(timeout);
    if let Some(form) = form {
        req = req.form(form);
    }
    req.send()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks() {
        let r = parse_raw_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        assert_eq!((r.status, r.body.as_str()), (200, "abcde"));
    }
}
