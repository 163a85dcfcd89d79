//! The member's latest snapshot, one plain file `snapshot` in the member dir (it replaced
//! `state.redb`, whose copy-on-write pages kept two or more snapshots' worth of space).
//!
//! Layout: `MAGIC`, then the meta as length-prefixed JSON, then the store's snapshot bytes,
//! length-prefixed, then the SHA-1 of everything before it. A new snapshot is written to
//! `snapshot.tmp`, fsynced, renamed over `snapshot` and the directory fsynced: the file on disk
//! is always one whole snapshot, never half of two, and the disk holds one snapshot at rest.
//!
//! A truncated or damaged file fails to read with an error naming it; nothing here ever hands
//! back an empty store in place of a snapshot it could not read.

use std::fs::File;
use std::io;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sha1::{Digest, Sha1};

use super::log_store::DiskHealth;
use super::log_store::Retry;
use super::types::SnapshotMeta;

/// File name of the snapshot inside the member dir.
pub const FILE_NAME: &str = "snapshot";
const TMP_NAME: &str = "snapshot.tmp";
/// Where snapshots were kept before; read when no `snapshot` file exists yet.
const LEGACY_NAME: &str = "state.redb";
const MAGIC: &[u8; 8] = b"ETCDSNP1";
const DIGEST_LEN: usize = 20;

/// Where the snapshot lives, and who hears about a failed write.
pub struct SnapshotFile {
    dir: PathBuf,
    health: Arc<DiskHealth>,
    /// Set when the state machine is dropped (raft stopped): a write retrying on a faulty disk
    /// then gives up instead of holding the runtime's shutdown.
    pub(super) closing: AtomicBool,
}

fn corrupt(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("snapshot file {} is damaged: {why}", path.display()),
    )
}

impl SnapshotFile {
    pub fn new(dir: &Path, health: Arc<DiskHealth>) -> SnapshotFile {
        SnapshotFile {
            dir: dir.to_path_buf(),
            health,
            closing: AtomicBool::new(false),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// The snapshot on disk, if any; blocking. A file that is not whole is an error naming it.
    pub fn read(&self) -> io::Result<Option<(SnapshotMeta, Vec<u8>)>> {
        let path = self.path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.read_legacy(),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        decode(&bytes).map(Some).map_err(|why| corrupt(&path, why))
    }

    /// A member dir written before this file existed keeps its snapshot in `state.redb`
    /// (table `snapshot`, keys `meta` and `data`); it is read from there until the first
    /// snapshot is written here, which removes it.
    fn read_legacy(&self) -> io::Result<Option<(SnapshotMeta, Vec<u8>)>> {
        use redb::{ReadableDatabase, TableDefinition};
        const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshot");
        let path = self.dir.join(LEGACY_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let fail = |e: &dyn std::fmt::Display| corrupt(&path, e);
        let db = redb::Database::open(&path).map_err(|e| fail(&e))?;
        let tx = db.begin_read().map_err(|e| fail(&e))?;
        let t = match tx.open_table(SNAPSHOT) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(fail(&e)),
        };
        let get = |k| t.get(k).map(|v| v.map(|v| v.value().to_vec()));
        let (Some(meta), Some(data)) = (
            get("meta").map_err(|e| fail(&e))?,
            get("data").map_err(|e| fail(&e))?,
        ) else {
            return Ok(None);
        };
        let meta = serde_json::from_slice(&meta).map_err(|e| fail(&e))?;
        Ok(Some((meta, data)))
    }

    /// Writes `meta` and `data` as the snapshot, durably; blocking. While the disk refuses the
    /// write (full, or failing), the fault is reported and the write retried with backoff; it
    /// gives up only once `closing` is set.
    pub fn write(&self, meta: &SnapshotMeta, data: &[u8]) -> io::Result<()> {
        let bytes = encode(meta, data)?;
        let mut retry = Retry::new(&self.closing);
        loop {
            let error = match self.write_once(&bytes) {
                Ok(()) => {
                    self.health.clear();
                    return Ok(());
                }
                Err(e) => e,
            };
            // A half-written temporary file only takes space the disk is short of.
            let _ = std::fs::remove_file(self.dir.join(TMP_NAME));
            self.health.set_fault(&error.to_string());
            if !retry.wait("snapshot: write", &error) {
                return Err(error);
            }
        }
    }

    fn write_once(&self, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.dir.join(TMP_NAME);
        let ctx = |what: &str, p: &Path| {
            let what = what.to_owned();
            let p = p.display().to_string();
            move |e: io::Error| io::Error::new(e.kind(), format!("snapshot: {what} {p}: {e}"))
        };
        let mut f = File::create(&tmp).map_err(ctx("create", &tmp))?;
        f.write_all(bytes).map_err(ctx("write", &tmp))?;
        f.sync_all().map_err(ctx("fsync", &tmp))?;
        drop(f);
        std::fs::rename(&tmp, self.path()).map_err(ctx("rename", &tmp))?;
        // The rename is durable only once the directory is.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(ctx("fsync dir", &self.dir))?;
        // Superseded for good now that a snapshot is durable here.
        match std::fs::remove_file(self.dir.join(LEGACY_NAME)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
        .map_err(ctx("remove", &self.dir.join(LEGACY_NAME)))
    }
}

fn encode(meta: &SnapshotMeta, data: &[u8]) -> io::Result<Vec<u8>> {
    let meta = serde_json::to_vec(meta).map_err(io::Error::other)?;
    let mut out = Vec::with_capacity(MAGIC.len() + 16 + meta.len() + data.len() + DIGEST_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(meta.len() as u64).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    out.extend_from_slice(data);
    let digest = Sha1::digest(&out);
    out.extend_from_slice(&digest);
    Ok(out)
}

/// The meta and data of a whole file, or why it is not one.
fn decode(bytes: &[u8]) -> Result<(SnapshotMeta, Vec<u8>), String> {
    let body_len = bytes
        .len()
        .checked_sub(DIGEST_LEN)
        .ok_or("shorter than its header")?;
    let (body, digest) = bytes.split_at(body_len);
    let mut rest = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not a snapshot file (bad magic)")?;
    let meta = take(&mut rest, "meta")?;
    let data = take(&mut rest, "data")?;
    if !rest.is_empty() {
        return Err(format!("{} stray bytes after the data", rest.len()));
    }
    if Sha1::digest(body).as_slice() != digest {
        return Err("checksum mismatch".to_owned());
    }
    let meta = serde_json::from_slice(meta).map_err(|e| format!("meta does not decode: {e}"))?;
    Ok((meta, data.to_vec()))
}

/// One length-prefixed section.
fn take<'a>(rest: &mut &'a [u8], what: &str) -> Result<&'a [u8], String> {
    let truncated = || format!("truncated in its {what}");
    let (len, tail) = rest.split_at_checked(8).ok_or_else(truncated)?;
    let len = u64::from_le_bytes(len.try_into().map_err(|_| truncated())?);
    let len = usize::try_from(len).map_err(|_| truncated())?;
    let (section, tail) = tail.split_at_checked(len).ok_or_else(truncated)?;
    *rest = tail;
    Ok(section)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> (tempfile::TempDir, SnapshotFile) {
        let dir = tempfile::TempDir::new().unwrap();
        let f = SnapshotFile::new(dir.path(), Arc::default());
        (dir, f)
    }

    #[test]
    fn round_trips_and_replaces() {
        let (_dir, f) = file();
        assert!(f.read().unwrap().is_none());
        f.write(&SnapshotMeta::default(), b"one").unwrap();
        f.write(&SnapshotMeta::default(), b"two").unwrap();
        let (meta, data) = f.read().unwrap().unwrap();
        assert_eq!(meta, SnapshotMeta::default());
        assert_eq!(data, b"two");
        assert!(!f.dir.join(TMP_NAME).exists());
    }

    #[test]
    fn every_truncation_and_a_flipped_bit_are_errors_naming_the_file() {
        let (_dir, f) = file();
        f.write(&SnapshotMeta::default(), b"some store bytes")
            .unwrap();
        let whole = std::fs::read(f.path()).unwrap();
        let mut damaged: Vec<Vec<u8>> = (0..whole.len()).map(|n| whole[..n].to_vec()).collect();
        for i in 0..whole.len() {
            let mut flipped = whole.clone();
            flipped[i] ^= 0x10;
            damaged.push(flipped);
        }
        for bytes in damaged {
            std::fs::write(f.path(), &bytes).unwrap();
            let err = f.read().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            assert!(err.to_string().contains(FILE_NAME), "{err}");
        }
    }
}
