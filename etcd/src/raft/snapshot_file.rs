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
mod tests {
    use super::*;

    fn file() -> (tempfile::TempDir, SnapshotFile) {
        let dir = tempfile::TempDir::new().unwrap();
        let f = SnapshotFile::new(dir.path(), Arc::default());
        (dir, f)
    }

    fn names(f: &SnapshotFile) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&f.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn meta_at(index: u64) -> SnapshotMeta {
        use openraft::vote::RaftLeaderIdExt as _;
        SnapshotMeta {
            last_log_id: Some(super::super::types::LogId::new(
                openraft::alias::LeaderIdOf::<super::super::types::TypeConfig>::new_committed(2, 1),
                index,
            )),
            ..SnapshotMeta::default()
        }
    }

    /// The file as the previous version of this module wrote it (one buffer, then hashed).
    fn old_encode(meta: &SnapshotMeta, data: &[u8]) -> Vec<u8> {
        use sha1::{Digest, Sha1};
        let meta = serde_json::to_vec(meta).unwrap();
        let mut out = b"ETCDSNP1".to_vec();
        out.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
        let digest = Sha1::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    #[test]
    fn round_trips_and_replaces() {
        let (_dir, f) = file();
        assert!(f.read().unwrap().is_none());
        assert!(f.current().unwrap().is_none());
        f.write(&SnapshotMeta::default(), b"one").unwrap();
        f.write(&meta_at(5), b"two").unwrap();
        let (meta, data) = f.read().unwrap().unwrap();
        assert_eq!(meta, meta_at(5));
        assert_eq!(data, b"two");
        assert_eq!(names(&f), ["snapshot"]);
        // What was written is what the old code wrote: old member dirs read as before.
        assert_eq!(
            std::fs::read(f.path()).unwrap(),
            old_encode(&meta_at(5), b"two")
        );
    }

    /// A writer for the store bytes that gives up after `ok` bytes, as a full disk does.
    fn failing_after(ok: usize, data: &[u8]) -> impl FnMut(&mut dyn io::Write) -> io::Result<()> {
        move |w| {
            w.write_all(&data[..ok.min(data.len())])?;
            Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"))
        }
    }

    #[test]
    fn a_streamed_snapshot_is_the_file_the_buffered_writer_made() {
        // Past the stage's buffer and the read-back block, in pieces of odd sizes.
        let data: Vec<u8> = (0..(600 << 10) + 7).map(|i| (i % 251) as u8).collect();
        for data in [&data[..], b"", b"x"] {
            let (_dir, f) = file();
            let mut reference = Vec::new();
            snapshot_format::write(&mut reference, &meta_at(3), data).unwrap();
            let written = f
                .write_with(&meta_at(3), |w| {
                    data.chunks(1000).try_for_each(|piece| w.write_all(piece))
                })
                .unwrap();
            assert!(std::fs::read(f.path()).unwrap() == reference);
            assert_eq!(written.len(), reference.len() as u64);
            assert_eq!(f.decode(&written, read_all).unwrap(), data);
            assert_eq!(names(&f), ["snapshot"]);
        }
    }

    #[test]
    fn a_failing_store_writer_leaves_no_temporary_file_and_names_it() {
        let data = vec![9u8; 400 << 10];
        let (_dir, f) = file();
        f.write(&meta_at(1), b"before").unwrap();
        for ok in [0, 10, 300 << 10] {
            let err = f.stage(&meta_at(2), failing_after(ok, &data)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::StorageFull);
            assert!(err.to_string().contains(TMP_NAME), "{err}");
            assert_eq!(names(&f), ["snapshot"]);
        }
        // The retrying write gives up once closing, with the same error and nothing left.
        f.closing.store(true, Ordering::Release);
        let err = f
            .write_with(&meta_at(2), failing_after(5, &data))
            .unwrap_err();
        assert!(err.to_string().contains(TMP_NAME), "{err}");
        assert_eq!(names(&f), ["snapshot"]);
        assert!(f.health.fault().is_some(), "the failed write is reported");
        assert_eq!(f.read().unwrap().unwrap(), (meta_at(1), b"before".to_vec()));
    }

    #[test]
    fn a_staged_snapshot_dropped_unsealed_leaves_nothing() {
        let (_dir, f) = file();
        let staged = f.stage(&meta_at(1), |w| w.write_all(b"abc")).unwrap();
        assert_eq!(names(&f), [TMP_NAME]);
        drop(staged);
        assert!(names(&f).is_empty());
        let staged = f.stage(&meta_at(1), |w| w.write_all(b"abc")).unwrap();
        f.seal(staged).unwrap();
        assert_eq!(f.read().unwrap().unwrap(), (meta_at(1), b"abc".to_vec()));
    }

    #[test]
    fn a_file_written_by_the_old_code_still_reads() {
        let (_dir, f) = file();
        std::fs::write(f.path(), old_encode(&meta_at(9), b"old bytes")).unwrap();
        assert_eq!(
            f.read().unwrap().unwrap(),
            (meta_at(9), b"old bytes".to_vec())
        );
        let (meta, data) = f.current().unwrap().unwrap();
        assert_eq!(meta, meta_at(9));
        assert_eq!(f.decode(&data, read_all).unwrap(), b"old bytes");
    }

    fn read_all(r: &mut dyn Read) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map(|_| v)
    }

    #[test]
    fn an_open_snapshot_stays_whole_when_a_newer_one_replaces_it() {
        let (_dir, f) = file();
        let first = f.write_and_open(&meta_at(1), &[1; 5000]).unwrap();
        let whole = std::fs::read(f.path()).unwrap();
        f.write(&meta_at(2), &[2; 7000]).unwrap();
        assert_eq!(first.read_chunk(0, usize::MAX).unwrap(), whole);
        assert_eq!(first.read_chunk(10, 3).unwrap(), whole[10..13]);
        assert_eq!(f.decode(&first, read_all).unwrap(), vec![1; 5000]);
        assert_eq!(f.current().unwrap().unwrap().0, meta_at(2));
    }

    #[test]
    fn a_received_file_is_verified_then_installed_in_place() {
        let (_src_dir, src) = file();
        src.write(&meta_at(7), b"received store bytes").unwrap();
        let bytes = std::fs::read(src.path()).unwrap();
        let (_dir, f) = file();
        f.write(&meta_at(3), b"older").unwrap();
        for step in 1..bytes.len() {
            let mut incoming = f.incoming(1 << 20).unwrap();
            for piece in bytes.chunks(step) {
                incoming.write(piece).unwrap();
            }
            let (meta, data) = incoming.finish().unwrap();
            assert_eq!(meta, meta_at(7));
            assert_eq!(f.decode(&data, read_all).unwrap(), b"received store bytes");
            // Not installed: dropping it leaves the snapshot as it was.
            drop(data);
            assert_eq!(f.read().unwrap().unwrap().0, meta_at(3));
            assert_eq!(names(&f), ["snapshot"]);
        }
        let mut incoming = f.incoming(1 << 20).unwrap();
        incoming.write(&bytes).unwrap();
        let (_, data) = incoming.finish().unwrap();
        let installed = f.install(data).unwrap();
        assert_eq!(names(&f), ["snapshot"]);
        assert_eq!(std::fs::read(f.path()).unwrap(), bytes);
        assert_eq!(installed.len(), bytes.len() as u64);
    }

    #[test]
    fn a_damaged_or_short_reception_is_refused_and_leaves_nothing() {
        let (_dir, f) = file();
        f.write(&meta_at(1), b"some store bytes").unwrap();
        let bytes = std::fs::read(f.path()).unwrap();
        for n in 0..bytes.len() {
            let mut incoming = f.incoming(1 << 20).unwrap();
            incoming
                .write(&bytes[..n])
                .unwrap_or_else(|e| panic!("{n}: {e}"));
            assert!(incoming.finish().is_err(), "cut at {n}");
        }
        let mut flipped = bytes.clone();
        flipped[bytes.len() - 30] ^= 1;
        let mut incoming = f.incoming(1 << 20).unwrap();
        let err = incoming.write(&flipped).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        drop(incoming);
        assert!(
            f.incoming(3).unwrap().write(&bytes).is_err(),
            "over the limit"
        );
        assert_eq!(names(&f), ["snapshot"]);
    }

    #[test]
    fn leftovers_of_an_interrupted_write_or_reception_are_removed() {
        let (_dir, f) = file();
        f.write(&meta_at(1), b"x").unwrap();
        for n in [TMP_NAME, "snapshot.recv.0.tmp", "snapshot.recv.17.tmp"] {
            std::fs::write(f.dir.join(n), b"half").unwrap();
        }
        std::fs::write(f.dir.join("other"), b"kept").unwrap();
        f.clean().unwrap();
        assert_eq!(names(&f), ["other", "snapshot"]);
    }

    #[test]
    fn a_legacy_state_redb_is_read_then_moved_into_the_file() {
        use redb::TableDefinition;
        const SNAPSHOT: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshot");
        let (_dir, f) = file();
        let db = redb::Database::create(f.dir.join(LEGACY_NAME)).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut t = tx.open_table(SNAPSHOT).unwrap();
            let meta = serde_json::to_vec(&meta_at(4)).unwrap();
            t.insert("meta", meta.as_slice()).unwrap();
            t.insert("data", b"legacy bytes".as_slice()).unwrap();
        }
        tx.commit().unwrap();
        drop(db);
        assert_eq!(
            f.read().unwrap().unwrap(),
            (meta_at(4), b"legacy bytes".to_vec())
        );
        f.migrate_legacy().unwrap();
        assert_eq!(names(&f), ["snapshot"]);
        assert_eq!(
            f.read().unwrap().unwrap(),
            (meta_at(4), b"legacy bytes".to_vec())
        );
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
            // A decoder that fails on the bad bytes first still gets the damage reported.
            let err = f.load(|_| Err::<(), _>("decoder gave up")).unwrap_err();
            assert!(err.to_string().contains("damaged"), "{err}");
        }
    }
}
