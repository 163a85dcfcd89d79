//! One formatter per `-o` mode (`simple`, `extended`, `json`), and `ls` listings.

use colored::Colorize;
use etcd_common::{Action, Node};
use serde::Serialize;

use super::{err, out, stdout_colour};
use crate::client::KeyResponse;

/// The `-o` output modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Simple,
    Extended,
    Json,
    /// Real etcdctl accepts any string and complains only when printing.
    Unsupported(String),
}

impl Format {
    pub fn parse(s: &str) -> Format {
        match s {
            "simple" => Format::Simple,
            "extended" => Format::Extended,
            "json" => Format::Json,
            other => Format::Unsupported(other.to_string()),
        }
    }

    fn formatter(&self) -> &dyn Formatter {
        match self {
            Format::Simple => &Simple,
            Format::Extended => &Extended,
            Format::Json => &Json,
            Format::Unsupported(_) => &Unsupported,
        }
    }

    /// etcd: printResponseKey.
    pub fn print(&self, resp: &KeyResponse) {
        match self {
            Format::Unsupported(name) => err(&format!("Unsupported output format: {name}\n")),
            f => out(&f.formatter().response(resp)),
        }
    }

    /// etcd: printLs — simple mode lists key names; other modes print the response.
    pub fn print_ls(&self, resp: &KeyResponse, slash: bool) {
        if *self != Format::Simple {
            return self.print(resp);
        }
        let mut s = String::new();
        let node = resp.body.node.clone().unwrap_or_default();
        if !node.dir {
            s.push_str(&node.key);
            s.push('\n');
        }
        let colour = stdout_colour();
        for n in node.nodes.iter().flatten() {
            ls_lines(n, slash, colour, &mut s);
        }
        out(&s);
    }
}

fn ls_lines(n: &Node, slash: bool, colour: bool, s: &mut String) {
    let name = if n.dir && slash {
        format!("{}/", n.key)
    } else {
        n.key.clone()
    };
    if n.dir && colour {
        s.push_str(&name.blue().bold().to_string());
    } else {
        s.push_str(&name);
    }
    s.push('\n');
    for c in n.nodes.iter().flatten() {
        ls_lines(c, slash, colour, s);
    }
}

/// One printer per output mode.
trait Formatter {
    fn response(&self, resp: &KeyResponse) -> String;
}

fn value_of(n: Option<&Node>) -> &str {
    n.and_then(|n| n.value.as_deref()).unwrap_or("")
}

/// `simple`: the value, or `PrevNode.Value: …` for a delete.
struct Simple;

impl Formatter for Simple {
    fn response(&self, resp: &KeyResponse) -> String {
        let b = &resp.body;
        if b.action != Action::Delete {
            format!("{}\n", value_of(b.node.as_ref()))
        } else {
            format!("PrevNode.Value: {}\n", value_of(b.prev_node.as_ref()))
        }
    }
}

/// `extended`: our RFC 2822-style block with all three index headers (the tutorial's format).
struct Extended;

impl Formatter for Extended {
    fn response(&self, resp: &KeyResponse) -> String {
        let b = &resp.body;
        let node = b.node.clone().unwrap_or_default();
        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "0".into());
        let mut s = format!(
            "Key: {}\nCreated-Index: {}\nModified-Index: {}\n",
            node.key, node.created_index, node.modified_index
        );
        if let Some(p) = &b.prev_node {
            s.push_str(&format!(
                "PrevNode.Value: {}\n",
                p.value.as_deref().unwrap_or("")
            ));
        }
        s.push_str(&format!(
            "TTL: {}\nEtcd-Index: {}\nRaft-Index: {}\nRaft-Term: {}\n",
            node.ttl,
            resp.etcd_index,
            opt(resp.raft_index),
            opt(resp.raft_term)
        ));
        if b.action != Action::Delete {
            s.push_str(&format!("\n{}\n", node.value.as_deref().unwrap_or("")));
        }
        s
    }
}

/// `json`: Go's `json.Marshal(client.Response)` — every field present, Go's order, HTML-escaped.
struct Json;

#[derive(Serialize)]
struct GoResponse<'a> {
    action: &'a str,
    node: Option<GoNode<'a>>,
    #[serde(rename = "prevNode")]
    prev_node: Option<GoNode<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GoNode<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "is_false")]
    dir: bool,
    value: &'a str,
    nodes: Option<Vec<GoNode<'a>>>,
    created_index: u64,
    modified_index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<&'a str>,
    #[serde(skip_serializing_if = "is_zero")]
    ttl: i64,
}

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl<'a> GoNode<'a> {
    fn from(n: &'a Node) -> GoNode<'a> {
        GoNode {
            key: &n.key,
            dir: n.dir,
            value: n.value.as_deref().unwrap_or(""),
            nodes: n
                .nodes
                .as_ref()
                .map(|ns| ns.iter().map(GoNode::from).collect()),
            created_index: n.created_index,
            modified_index: n.modified_index,
            expiration: n.expiration.as_deref(),
            ttl: n.ttl,
        }
    }
}

impl Formatter for Json {
    fn response(&self, resp: &KeyResponse) -> String {
        let b = &resp.body;
        let r = GoResponse {
            action: b.action.as_str(),
            node: b.node.as_ref().map(GoNode::from),
            prev_node: b.prev_node.as_ref().map(GoNode::from),
        };
        format!("{}\n", etcd_common::go::json::to_string(&r))
    }
}

struct Unsupported;

impl Formatter for Unsupported {
    fn response(&self, _resp: &KeyResponse) -> String {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etcd_common::Response;

    fn resp(text: &str, idx: u64) -> KeyResponse {
        KeyResponse {
            body: serde_json::from_str::<Response>(text).unwrap(),
            etcd_index: idx,
            raft_index: Some(100),
            raft_term: Some(2),
        }
    }

    #[test]
    fn json_matches_go_client() {
        let r = resp(
            r#"{"action":"set","node":{"key":"/foo","value":"a&b","modifiedIndex":5,"createdIndex":5},"prevNode":{"key":"/foo","value":"bar","modifiedIndex":4,"createdIndex":4}}"#,
            5,
        );
        assert_eq!(
            Json.response(&r),
            "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"a\\u0026b\",\"nodes\":null,\"createdIndex\":5,\"modifiedIndex\":5},\"prevNode\":{\"key\":\"/foo\",\"value\":\"bar\",\"nodes\":null,\"createdIndex\":4,\"modifiedIndex\":4}}\n"
        );
        let r = resp(
            r#"{"action":"get","node":{"dir":true,"nodes":[{"key":"/d","dir":true,"modifiedIndex":7,"createdIndex":7}]}}"#,
            11,
        );
        assert_eq!(
            Json.response(&r),
            "{\"action\":\"get\",\"node\":{\"key\":\"\",\"dir\":true,\"value\":\"\",\"nodes\":[{\"key\":\"/d\",\"dir\":true,\"value\":\"\",\"nodes\":null,\"createdIndex\":7,\"modifiedIndex\":7}],\"createdIndex\":0,\"modifiedIndex\":0},\"prevNode\":null}\n"
        );
    }

    /// Real etcdctl 3.4.23, `-o json get /k` on the value "a\bb\fc<d>e&f\x01g\u2028h".
    #[test]
    fn json_escapes_like_go() {
        let r = resp(
            r#"{"action":"get","node":{"key":"/k","value":"a\bb\fc<d>e&f\u0001g\u2028h","modifiedIndex":4,"createdIndex":4}}"#,
            4,
        );
        assert_eq!(
            Json.response(&r),
            "{\"action\":\"get\",\"node\":{\"key\":\"/k\",\"value\":\"a\\u0008b\\u000cc\\u003cd\\u003ee\\u0026f\\u0001g\\u2028h\",\"nodes\":null,\"createdIndex\":4,\"modifiedIndex\":4},\"prevNode\":null}\n"
        );
    }

    #[test]
    fn extended_and_simple() {
        let r = resp(
            r#"{"action":"delete","node":{"key":"/d/a","modifiedIndex":15,"createdIndex":10},"prevNode":{"key":"/d/a","value":"1","modifiedIndex":10,"createdIndex":10}}"#,
            15,
        );
        assert_eq!(
            Extended.response(&r),
            "Key: /d/a\nCreated-Index: 10\nModified-Index: 15\nPrevNode.Value: 1\nTTL: 0\nEtcd-Index: 15\nRaft-Index: 100\nRaft-Term: 2\n"
        );
        assert_eq!(Simple.response(&r), "PrevNode.Value: 1\n");
    }
}
