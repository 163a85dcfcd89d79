//! The store's serialised form: versioned, with the tree as a flat list.
//!
//! Nodes are a flat list in pre-order (every parent before its children): a nested encoding
//! would hit the JSON parser's recursion limit on deep trees and make the snapshot unreadable
//! (found by fuzzing; see `etcd/fuzz/README.md`).
//!
//! Decoding builds the tree as it parses: [`Store::decode_snapshot`] inserts each node into the
//! new tree as the parser reaches it, so the nodes are never a list beside the tree they become.
//! The snapshot's bytes are in memory whole while that runs (parsing a slice is twice as fast as
//! parsing a reader). Only the history ring is read as one value (at most a thousand events).

use std::collections::BTreeSet;
use std::fmt;
use std::io;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::Store;
use super::auth::AuthState;
use super::bytes::ByteStr;
use super::history::History;
use super::path;
use super::tree::{Body, TreeNode, lookup_mut};
use super::ttl::TtlIndex;
use crate::time::UnixNanos;

/// The layout written today; `version` lets a future layout still read old snapshots. The
/// decoder below reads the same fields (see [`SnapshotVisitor`]).
#[derive(Serialize)]
struct SnapshotV2<'a> {
    version: u32,
    nodes: FlatNodes<'a>,
    current_index: u64,
    history: History,
    removed_members: &'a BTreeSet<u64>,
    /// Users, roles and the auth flag; absent in snapshots written before auth existed.
    auth: &'a AuthState,
}

#[derive(Serialize)]
struct FlatNodeRef<'a> {
    path: &'a ByteStr,
    created_index: u64,
    modified_index: u64,
    expire_at: Option<UnixNanos>,
    /// `None` for a directory.
    value: Option<&'a ByteStr>,
}

#[derive(Deserialize)]
struct FlatNode {
    path: ByteStr,
    created_index: u64,
    modified_index: u64,
    expire_at: Option<UnixNanos>,
    value: Option<ByteStr>,
}

/// The tree below the root in pre-order, serialised as a sequence without collecting it.
struct FlatNodes<'a>(&'a TreeNode);

impl Serialize for FlatNodes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        let mut stack: Vec<&TreeNode> = self
            .0
            .children()
            .into_iter()
            .flat_map(|c| c.values().rev())
            .collect();
        while let Some(n) = stack.pop() {
            seq.serialize_element(&FlatNodeRef {
                path: &n.path,
                created_index: n.created_index,
                modified_index: n.modified_index,
                expire_at: n.expire_at,
                value: match &n.body {
                    Body::File(v) => Some(v),
                    Body::Dir(_) => None,
                },
            })?;
            if let Some(children) = n.children() {
                stack.extend(children.values().rev());
            }
        }
        seq.end()
    }
}

/// A decoded snapshot, not yet installed: decoding needs no lock on the live store, and
/// installing it is a swap.
pub struct Restored {
    root: TreeNode,
    ttl: TtlIndex,
    current_index: u64,
    history: History,
    removed_members: BTreeSet<u64>,
    auth: AuthState,
}

impl Store {
    /// The snapshot as one buffer, for tests: the daemon streams it into the snapshot file
    /// (`raft/snapshot_write.rs`) and never holds a copy of the store.
    #[cfg(test)]
    pub(crate) fn to_snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::new();
        self.write_snapshot(&mut out)?;
        Ok(out)
    }

    /// Serialise the store into `w`, a piece at a time (buffer `w` if it is a file).
    pub fn write_snapshot(&self, w: impl io::Write) -> Result<(), serde_json::Error> {
        serde_json::to_writer(
            w,
            &SnapshotV2 {
                version: 2,
                nodes: FlatNodes(&self.root),
                current_index: self.current_index,
                history: self.feed.history(),
                removed_members: &self.removed_members,
                auth: &self.auth,
            },
        )
    }

    /// Decode the snapshot read from `r`; nothing but the result is kept.
    pub fn decode_snapshot(mut r: impl io::Read) -> Result<Restored, serde_json::Error> {
        // Read whole, then parsed: serde_json parses a slice about twice as fast as a reader,
        // which it takes a byte at a time (a 100k-key store, an 18 MB snapshot: 119 -> 73 ms
        // of a 0.35 s restart). The copy lives only while this runs: the tree is built from it
        // and it is freed before the member serves.
        let mut buf = Vec::new();
        r.read_to_end(&mut buf).map_err(serde_json::Error::io)?;
        Store::decode_snapshot_bytes(&buf)
    }

    fn decode_snapshot_bytes(bytes: &[u8]) -> Result<Restored, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let restored = de.deserialize_map(SnapshotVisitor)?;
        de.end()?;
        Ok(restored)
    }

    /// Replace the whole state with a decoded snapshot. Every watcher is dropped (their
    /// responses end and clients re-watch from their last index), as etcd does on recovery.
    /// Answers the state it replaced, for the caller to free where it costs nobody a lock.
    pub fn install_snapshot(&mut self, snap: Restored) -> Restored {
        let history = self.feed.history();
        self.feed.reset(snap.history, snap.current_index);
        Restored {
            root: std::mem::replace(&mut self.root, snap.root),
            ttl: std::mem::replace(&mut self.ttl, snap.ttl),
            current_index: std::mem::replace(&mut self.current_index, snap.current_index),
            history,
            removed_members: std::mem::replace(&mut self.removed_members, snap.removed_members),
            auth: std::mem::replace(&mut self.auth, std::sync::Arc::new(snap.auth))
                .as_ref()
                .clone(),
        }
    }

    /// Replace the whole state with the snapshot in `bytes`; one that does not parse leaves
    /// the store as it was.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let snap = Store::decode_snapshot_bytes(bytes)?;
        self.install_snapshot(snap);
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Version,
    Nodes,
    CurrentIndex,
    History,
    RemovedMembers,
    Auth,
    #[serde(other)]
    Other,
}

/// Reads the snapshot object field by field; `nodes` goes straight into the tree. Required
/// and optional fields are those the derived decoder of [`SnapshotV2`] had.
struct SnapshotVisitor;

impl<'de> Visitor<'de> for SnapshotVisitor {
    type Value = Restored;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a store snapshot")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Restored, A::Error> {
        let mut tree = Tree::default();
        let mut version: Option<u32> = None;
        let mut nodes = false;
        let mut current_index: Option<u64> = None;
        let mut history: Option<History> = None;
        let mut removed_members: Option<BTreeSet<u64>> = None;
        let mut auth: Option<AuthState> = None;
        fn once<T, E: de::Error>(slot: &Option<T>, name: &'static str) -> Result<(), E> {
            match slot {
                Some(_) => Err(E::duplicate_field(name)),
                None => Ok(()),
            }
        }
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Version => {
                    once(&version, "version")?;
                    version = Some(map.next_value()?);
                }
                Field::Nodes => {
                    if nodes {
                        return Err(de::Error::duplicate_field("nodes"));
                    }
                    map.next_value_seed(&mut tree)?;
                    nodes = true;
                }
                Field::CurrentIndex => {
                    once(&current_index, "current_index")?;
                    current_index = Some(map.next_value()?);
                }
                Field::History => {
                    once(&history, "history")?;
                    history = Some(map.next_value()?);
                }
                Field::RemovedMembers => {
                    once(&removed_members, "removed_members")?;
                    removed_members = Some(map.next_value()?);
                }
                Field::Auth => {
                    once(&auth, "auth")?;
                    auth = Some(map.next_value()?);
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        version.ok_or_else(|| de::Error::missing_field("version"))?;
        if !nodes {
            return Err(de::Error::missing_field("nodes"));
        }
        Ok(Restored {
            root: tree.root,
            ttl: tree.ttl,
            current_index: current_index
                .ok_or_else(|| de::Error::missing_field("current_index"))?,
            history: history.ok_or_else(|| de::Error::missing_field("history"))?,
            removed_members: removed_members.unwrap_or_default(),
            auth: auth.unwrap_or_default(),
        })
    }
}

/// The tree being rebuilt, fed one flat node at a time.
struct Tree {
    root: TreeNode,
    ttl: TtlIndex,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree {
            root: TreeNode::new_dir(ByteStr::from("/"), 0, None),
            ttl: TtlIndex::default(),
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Tree {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut Tree {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of nodes in pre-order")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(f) = seq.next_element::<FlatNode>()? {
            self.insert(f).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

impl Tree {
    fn insert(&mut self, f: FlatNode) -> Result<(), String> {
        let (parent, name) = path::split(&f.path);
        let name = ByteStr::from(name);
        let children = lookup_mut(&mut self.root, parent, 0)
            .ok()
            .and_then(|p| p.children_mut())
            .ok_or_else(|| format!("snapshot: {} before its parent", f.path.to_lossy()))?;
        if let Some(at) = f.expire_at {
            self.ttl.insert(at, &f.path);
        }
        let node = match f.value {
            Some(v) => TreeNode::new_file(f.path, v, f.created_index, f.expire_at),
            None => TreeNode::new_dir(f.path, f.created_index, f.expire_at),
        };
        children.insert(
            name,
            TreeNode {
                modified_index: f.modified_index,
                ..node
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::store::{Command, Op};

    /// 2030, in Unix nanoseconds.
    const T: UnixNanos = 1_900_000_000_000_000_000;

    fn sample() -> Store {
        let mut s = Store::new();
        let mut set = |path: &str, value: Option<&str>, expire_at| {
            let op = Op::Set {
                path: path.into(),
                dir: value.is_none(),
                value: value.unwrap_or_default().into(),
                expire_at,
                refresh: false,
            };
            s.apply(Command { now: T, op }).unwrap();
        };
        set("/a/b/c", Some("1"), None);
        set("/a/d", None, Some(T + 5));
        set("/a/d/e", Some("two\u{e9}"), None);
        set("/z", Some(&"v".repeat(3000)), Some(T + 9));
        set("/a/b/c", Some("3"), None);
        s
    }

    /// A reader handing out at most `step` bytes per call, as a socket or a file may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn decoded(bytes: &[u8], step: usize) -> Result<Store, serde_json::Error> {
        let mut s = Store::new();
        s.install_snapshot(Store::decode_snapshot(Trickle(bytes, step))?);
        Ok(s)
    }

    #[test]
    fn the_streaming_decoder_reads_any_chunking_to_the_same_store() {
        let s = sample();
        assert!(s.next_expiry().is_some());
        let bytes = s.to_snapshot().unwrap();
        for step in [1, 2, 3, 7, 64, 4096, bytes.len()] {
            let r = decoded(&bytes, step).unwrap();
            assert_eq!(r.to_snapshot().unwrap(), bytes, "step {step}");
            assert_eq!(r.index(), s.index());
            assert_eq!(r.next_expiry(), s.next_expiry());
        }
    }

    #[test]
    fn truncated_or_damaged_input_is_an_error_and_leaves_the_store_as_it_was() {
        let bytes = sample().to_snapshot().unwrap();
        for n in 0..bytes.len() {
            assert!(decoded(&bytes[..n], 5).is_err(), "cut at {n}");
        }
        let mut s = sample();
        let before = s.to_snapshot().unwrap();
        for bad in [
            &b"garbage"[..],
            br#"{"version":2,"nodes":[{"path":"/x/y","created_index":1,"modified_index":1,"expire_at":null,"value":"v"}],"current_index":1,"history":{"events":[],"start_index":0}}"#,
            br#"{"version":2,"nodes":[],"nodes":[],"current_index":1,"history":{"events":[],"start_index":0}}"#,
            br#"{"version":2,"nodes":[],"history":{"events":[],"start_index":0}}"#,
            br#"{"version":2,"nodes":[],"current_index":1,"history":{"events":[],"start_index":0}} x"#,
        ] {
            assert!(s.restore(bad).is_err(), "{}", String::from_utf8_lossy(bad));
            assert_eq!(s.to_snapshot().unwrap(), before);
        }
    }

    /// Written before auth and removed members were kept, with the fields in another order
    /// and one this version does not know.
    #[test]
    fn an_older_snapshot_still_decodes() {
        let old = br#"{"history":{"events":[],"start_index":0},"current_index":7,"future":[1,{"a":2}],"nodes":[{"path":"/d","created_index":2,"modified_index":3,"expire_at":null,"value":null},{"path":"/d/k","created_index":4,"modified_index":4,"expire_at":null,"value":"v"}],"version":2}"#;
        for step in [1, 3, old.len()] {
            let r = decoded(old, step).unwrap();
            assert_eq!(r.index(), 7);
            let node = r.get("/d/k", false, false, 0).unwrap().node;
            assert_eq!(node.value.as_deref(), Some(b"v".as_slice()));
            assert_eq!(r.get("/d", false, false, 0).unwrap().node.modified_index, 3);
        }
    }
}
