//! The member's latest snapshot, one plain file `snapshot` in the member dir (it replaced
//! `state.redb`, whose copy-on-write pages kept two or more snapshots' worth of space).
//!
//! The layout is in `snapshot_format.rs`. A new snapshot is written to a temporary file,
//! fsynced, renamed over `snapshot` and the directory fsynced: the file on disk is always one
//! whole snapshot, never half of two, and the disk holds one snapshot at rest (plus one being
//! received). A snapshot is never in memory whole: it is sent from an open file, received into
//! a temporary file that is renamed into place, and the store is decoded from the file as it
//! is read.
//!
//! A truncated or damaged file fails to read with an error naming it; nothing here ever hands
//! back an empty store in place of a snapshot it could not read.

use std::fs::File;
use std::io::{self, Read, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::log_store::DiskHealth;
use super::snapshot_format::{self, DataReader, Verifier};
use super::types::SnapshotMeta;

/// File name of the snapshot inside the member dir.
pub const FILE_NAME: &str = "snapshot";
pub(super) const TMP_NAME: &str = "snapshot.tmp";
/// Snapshots being received are `snapshot.recv.<n>.tmp`.
const RECV_PREFIX: &str = "snapshot.recv.";
/// Where snapshots were kept before; read when no `snapshot` file exists yet.
const LEGACY_NAME: &str = "state.redb";

/// Where the snapshot lives, and who hears about a failed write.
pub struct SnapshotFile {
    dir: PathBuf,
    health: Arc<DiskHealth>,
    /// Set when the state machine is dropped (raft stopped): a write retrying on a faulty disk
    /// then gives up instead of holding the runtime's shutdown.
    pub(super) closing: AtomicBool,
    /// Numbers the files of snapshots being received, so two receptions never share one.
    received: AtomicU64,
}

fn corrupt(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("snapshot file {} is damaged: {why}", path.display()),
    )
}

/// `e` with the operation and file named.
pub(super) fn ctx(what: &str, p: &Path) -> impl FnOnce(io::Error) -> io::Error {
    let what = what.to_owned();
    let p = p.display().to_string();
    move |e: io::Error| io::Error::new(e.kind(), format!("snapshot: {what} {p}: {e}"))
}

/// A snapshot file, open: what openraft hands between the state machine and the network.
///
/// The file stays readable through its descriptor even after a newer snapshot is renamed
/// over its name, so a snapshot being sent is never torn. Reads are positional: the
/// descriptor has no shared offset to race on.
pub struct SnapshotData {
    file: Arc<File>,
    len: u64,
    /// A received file not yet renamed into place; removed if it never is.
    temp: Option<PathBuf>,
    /// Its checksum was verified as it was written (received or written here).
    verified: bool,
}

impl std::fmt::Debug for SnapshotData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SnapshotData({} bytes)", self.len)
    }
}

impl Drop for SnapshotData {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

impl SnapshotData {
    /// The file's length in bytes (what travels to a joining member).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Up to `max` bytes of the file from `offset` (blocking).
    pub fn read_chunk(&self, offset: u64, max: usize) -> io::Result<Vec<u8>> {
        let n = usize::try_from(self.len.saturating_sub(offset)).map_or(max, |n| n.min(max));
        let mut buf = vec![0; n];
        self.file.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }

    /// A reader over the whole file from its start.
    fn reader(&self) -> impl Read + '_ {
        Positional {
            file: &self.file,
            at: 0,
        }
    }

    /// A file being written at `path`, removed unless it is installed.
    pub(super) fn temp(file: Arc<File>, path: PathBuf) -> SnapshotData {
        SnapshotData {
            file,
            len: 0,
            temp: Some(path),
            verified: false,
        }
    }

    pub(super) fn file(&self) -> &File {
        &self.file
    }

    pub(super) fn temp_path(&self) -> Option<&Path> {
        self.temp.as_deref()
    }

    /// A reader over the first `len` bytes of the file.
    pub(super) fn reader_to(&self, len: u64) -> impl Read + '_ {
        self.reader().take(len)
    }

    /// The file is whole at `len` bytes, written (and so checked) here.
    pub(super) fn set_written(&mut self, len: u64) {
        self.len = len;
        self.verified = true;
    }
}

struct Positional<'a> {
    file: &'a File,
    at: u64,
}

impl Read for Positional<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl SnapshotFile {
    pub fn new(dir: &Path, health: Arc<DiskHealth>) -> SnapshotFile {
        SnapshotFile {
            dir: dir.to_path_buf(),
            health,
            closing: AtomicBool::new(false),
            received: AtomicU64::new(0),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(super) fn health(&self) -> &DiskHealth {
        &self.health
    }

    /// Remove what an interrupted write or reception left behind (blocking).
    pub fn clean(&self) -> io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if name == TMP_NAME || (name.starts_with(RECV_PREFIX) && name.ends_with(".tmp")) {
                let _ = std::fs::remove_file(self.dir.join(&*name));
            }
        }
        Ok(())
    }

    /// The snapshot on disk, if any, data and all; blocking. A file that is not whole is an
    /// error naming it.
    pub fn read(&self) -> io::Result<Option<(SnapshotMeta, Vec<u8>)>> {
        self.load(|r| {
            let mut data = Vec::new();
            r.read_to_end(&mut data).map(|_| data)
        })
    }

    /// The snapshot on disk, if any, with its store data handed to `decode` as a reader;
    /// blocking. The whole file is verified: a damaged one is an error naming it even when
    /// `decode` failed first, and an intact one whose data `decode` refuses is an error saying
    /// it does not decode. A snapshot still in a legacy `state.redb` is read from there.
    pub fn load<T, E: std::fmt::Display>(
        &self,
        decode: impl FnOnce(&mut dyn Read) -> Result<T, E>,
    ) -> io::Result<Option<(SnapshotMeta, T)>> {
        let path = self.path();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.load_legacy(decode),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        let mut reader = DataReader::open(file).map_err(|e| corrupt(&path, e))?;
        let decoded = decode(&mut reader);
        let meta = reader.finish().map_err(|e| corrupt(&path, e))?;
        let decoded = decoded.map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("snapshot file {} does not decode: {e}", path.display()),
            )
        })?;
        Ok(Some((meta, decoded)))
    }

    /// Decode the store data of `data` (an open snapshot file), verifying the file; blocking.
    pub fn decode<T, E: std::fmt::Display>(
        &self,
        data: &SnapshotData,
        decode: impl FnOnce(&mut dyn Read) -> Result<T, E>,
    ) -> io::Result<T> {
        let what = || match &data.temp {
            Some(p) => format!("received snapshot {}", p.display()),
            None => format!("snapshot file {}", self.path().display()),
        };
        let reader = match data.verified {
            true => DataReader::open_trusted(data.reader()),
            false => DataReader::open(data.reader()),
        };
        let mut reader =
            reader.map_err(|e| io::Error::new(e.kind(), format!("{} is damaged: {e}", what())))?;
        let decoded = decode(&mut reader);
        reader
            .finish()
            .map_err(|e| io::Error::new(e.kind(), format!("{} is damaged: {e}", what())))?;
        decoded.map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} does not decode: {e}", what()),
            )
        })
    }

    /// The snapshot on disk, open, with its meta; blocking. Only the head is read: whoever
    /// takes the bytes verifies them.
    pub fn current(&self) -> io::Result<Option<(SnapshotMeta, SnapshotData)>> {
        let path = self.path();
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        let data = SnapshotData {
            len: file.metadata().map_err(ctx("stat", &path))?.len(),
            file: Arc::new(file),
            temp: None,
            verified: false,
        };
        let meta = head_meta(&data).map_err(|e| corrupt(&path, e))?;
        Ok(Some((meta, data)))
    }

    fn load_legacy<T, E: std::fmt::Display>(
        &self,
        decode: impl FnOnce(&mut dyn Read) -> Result<T, E>,
    ) -> io::Result<Option<(SnapshotMeta, T)>> {
        let Some((meta, data)) = self.read_legacy()? else {
            return Ok(None);
        };
        let path = self.dir.join(LEGACY_NAME);
        let decoded = decode(&mut data.as_slice()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("snapshot in {} does not decode: {e}", path.display()),
            )
        })?;
        Ok(Some((meta, decoded)))
    }

    /// A member dir of an older version keeps its snapshot in `state.redb`: write it as the
    /// `snapshot` file (which removes `state.redb`), so that there is a file to send; blocking.
    /// One attempt: a disk that refuses it fails the start with the error, naming the file.
    pub fn migrate_legacy(&self) -> io::Result<()> {
        if self.path().exists() {
            return Ok(());
        }
        if let Some((meta, data)) = self.read_legacy()? {
            self.write_once(&meta, &data)?;
        }
        Ok(())
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

    /// Make `data` the snapshot on disk (a received or newly written file is fsynced and
    /// renamed into place; the current file stays as it is); blocking. Answers it, open.
    pub fn install(&self, mut data: SnapshotData) -> io::Result<SnapshotData> {
        if data.temp.is_none() {
            return Ok(data);
        }
        self.install_in_place(&mut data)?;
        Ok(data)
    }

    /// [`SnapshotFile::install`] of a file kept by the caller: after an error it can be tried
    /// again (the file stays until `data` is dropped, or is in place already).
    pub(super) fn install_in_place(&self, data: &mut SnapshotData) -> io::Result<()> {
        if let Some(tmp) = data.temp.clone() {
            data.file.sync_all().map_err(ctx("fsync", &tmp))?;
            std::fs::rename(&tmp, self.path()).map_err(ctx("rename", &tmp))?;
            data.temp = None;
        }
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

    /// A temporary file to receive a snapshot into (blocking); `limit` bounds its store data.
    pub fn incoming(&self, limit: u64) -> io::Result<Incoming> {
        let n = self.received.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{RECV_PREFIX}{n}.tmp"));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(ctx("create", &path))?;
        Ok(Incoming {
            data: SnapshotData {
                file: Arc::new(file),
                len: 0,
                temp: Some(path),
                verified: false,
            },
            verifier: Verifier::new(limit),
        })
    }
}

/// The meta at the head of an open snapshot file.
fn head_meta(data: &SnapshotData) -> io::Result<SnapshotMeta> {
    let reader = DataReader::open(data.reader())?;
    reader
        .meta()
        .cloned()
        .ok_or_else(|| snapshot_format::FormatError::Truncated("meta").into())
}

/// A snapshot file being received: written as it arrives and verified on the way.
pub struct Incoming {
    data: SnapshotData,
    verifier: Verifier,
}

impl Incoming {
    /// Append the next bytes of the file (blocking).
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.verifier.push(chunk)?;
        let mut file: &File = &self.data.file;
        file.write_all(chunk)?;
        self.data.len += chunk.len() as u64;
        Ok(())
    }

    /// The whole file, verified and fsynced, with its meta; an error if it is not whole.
    pub fn finish(mut self) -> io::Result<(SnapshotMeta, SnapshotData)> {
        let meta = self.verifier.finish()?;
        self.data.file.sync_all()?;
        self.data.verified = true;
        Ok((meta, self.data))
    }
}

#[cfg(test)]
mod tests;
