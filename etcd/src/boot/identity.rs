//! Member and cluster ids, computed as etcd computes them, and their record in the data dir.
//!
//! etcd: server/etcdserver/api/membership/member.go `computeMemberID` and cluster.go `genID`.
//! Matching them means `etcdctl member list` shows the ids an operator of real etcd expects
//! for the same flags.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// sha1(sorted peer URLs joined + token [+ unix time]) → first 8 bytes, big endian.
pub fn member_id(peer_urls: &[String], token: &str, now_unix: Option<i64>) -> u64 {
    let mut urls = peer_urls.to_vec();
    urls.sort();
    let mut h = Sha1::new();
    h.update(urls.concat().as_bytes());
    h.update(token.as_bytes());
    if let Some(t) = now_unix {
        h.update(t.to_string().as_bytes());
    }
    first_u64(&h.finalize())
}

/// sha1 of the sorted member ids, each 8 bytes big endian → first 8 bytes.
pub fn cluster_id(member_ids: &[u64]) -> u64 {
    let mut ids = member_ids.to_vec();
    ids.sort_unstable();
    let mut h = Sha1::new();
    for id in ids {
        h.update(id.to_be_bytes());
    }
    first_u64(&h.finalize())
}

fn first_u64(d: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// Who this member is, fixed at first start and read back on every restart (the initial
/// cluster flags are ignored from then on, as in etcd).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub member_id: u64,
    pub cluster_id: u64,
    pub name: String,
    /// The initial members of a cluster this member bootstraps (`None` when it joined an
    /// existing cluster): raft is initialised with them until the log shows it was.
    #[serde(default)]
    pub bootstrap: Option<std::collections::BTreeMap<u64, crate::raft::types::MemberInfo>>,
}

const FILE: &str = "identity.json";

/// The member directory inside the data dir (etcd keeps its files under `member/` too).
pub fn member_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("member")
}

pub fn load(member_dir: &Path) -> io::Result<Option<Identity>> {
    match std::fs::read(member_dir.join(FILE)) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Write the identity durably: temp file, fsync, rename, fsync the directory.
pub fn save(member_dir: &Path, id: &Identity) -> io::Result<()> {
    let tmp = member_dir.join(format!("{FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec(id).map_err(io::Error::other)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, member_dir.join(FILE))?;
    std::fs::File::open(member_dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_real_etcd() {
        // Real etcd 3.4 with --initial-advertise-peer-urls http://127.0.0.1:12380 and the
        // default token reported member id ddd67b312462fd7b, cluster id a7ef944b95711739.
        let m = member_id(
            &["http://127.0.0.1:12380".to_string()],
            "etcd-cluster",
            None,
        );
        assert_eq!(format!("{m:x}"), "ddd67b312462fd7b");
        assert_eq!(format!("{:x}", cluster_id(&[m])), "a7ef944b95711739");
    }
}
