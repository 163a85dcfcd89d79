//! Writing a snapshot file from a stream of store bytes, never holding them whole.
//!
//! The store is serialised straight into the temporary file ([`SnapshotFile::stage`]), which
//! is the part that must see one consistent store and so runs where applies wait. The data
//! length is known only once the store has been written, and the checksum covers it: the
//! head goes out with a length of zero, patched in place at the end. The checksum is then
//! computed by reading the file back ([`SnapshotFile::seal`]: sequential, mostly from the page
//! cache), which needs no lock on the store, and appended; the file is fsynced and renamed in
//! place. The bytes on disk are those `snapshot_format::write` makes from the same data.
//!
//! A staged file that fails to seal keeps its bytes and is sealed again: the store may have
//! moved on by then and could not be serialised as it was.

use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::sync::Arc;

use super::log_store::Retry;
use super::snapshot_file::{SnapshotData, SnapshotFile, TMP_NAME, ctx};
use super::snapshot_format;
use super::types::SnapshotMeta;

/// Buffer between the store's serialiser (many small writes) and the file.
const BUFFER: usize = 256 << 10;

/// A snapshot written to the temporary file but not yet checksummed or in place. Dropped
/// unsealed, its file is removed.
pub struct Staged {
    data: SnapshotData,
    /// Where the checksum goes: the length of everything before it.
    digest_at: u64,
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Staged({} bytes before the checksum)", self.digest_at)
    }
}

/// Counts what the store writes: the data length for the head.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl SnapshotFile {
    /// One attempt at writing `meta` and the store data that `data` writes into the temporary
    /// file, without the checksum; blocking. On an error, which names the file, the file is
    /// gone: a half-written one only takes space a failing disk is short of.
    pub fn stage(
        &self,
        meta: &SnapshotMeta,
        data: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<Staged> {
        let tmp = self.dir().join(TMP_NAME);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(ctx("create", &tmp))?;
        // Owned from here on, so that every error below removes the file.
        let staged = SnapshotData::temp(Arc::new(file), tmp.clone());
        let head = snapshot_format::head(meta).map_err(ctx("write", &tmp))?;
        let data_len = {
            let mut out = Counting {
                inner: BufWriter::with_capacity(BUFFER, staged.file()),
                n: 0,
            };
            out.inner.write_all(&head).map_err(ctx("write", &tmp))?;
            data(&mut out).map_err(ctx("write", &tmp))?;
            out.flush().map_err(ctx("write", &tmp))?;
            out.n
        };
        let len_at = head.len() as u64 - 8;
        staged
            .file()
            .write_all_at(&data_len.to_le_bytes(), len_at)
            .map_err(ctx("write", &tmp))?;
        Ok(Staged {
            digest_at: head.len() as u64 + data_len,
            data: staged,
        })
    }

    /// Checksum a staged snapshot and make it the snapshot on disk, durably; blocking. Answers
    /// it, open. While the disk refuses, the fault is reported and the sealing retried with
    /// backoff (the staged bytes stay); it gives up only once `closing` is set.
    pub fn seal(&self, mut staged: Staged) -> io::Result<SnapshotData> {
        self.retrying("snapshot: seal", || self.seal_once(&mut staged))?;
        Ok(staged.data)
    }

    fn seal_once(&self, staged: &mut Staged) -> io::Result<()> {
        if let Some(tmp) = staged.data.temp_path().map(PathBuf::from) {
            let digest = snapshot_format::digest(staged.data.reader_to(staged.digest_at))
                .map_err(ctx("read back", &tmp))?;
            staged
                .data
                .file()
                .write_all_at(&digest, staged.digest_at)
                .map_err(ctx("write", &tmp))?;
            staged
                .data
                .set_written(staged.digest_at + digest.len() as u64);
        }
        self.install_in_place(&mut staged.data)
    }

    /// [`SnapshotFile::stage_retrying`] then [`SnapshotFile::seal`] (`data` is called again
    /// on each attempt: it must write the same bytes each time).
    pub fn write_with(
        &self,
        meta: &SnapshotMeta,
        data: impl FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<SnapshotData> {
        let staged = self.stage_retrying(meta, data)?;
        self.seal(staged)
    }

    /// [`SnapshotFile::stage`] then seal, one attempt each: an error is the answer.
    pub(super) fn write_once(&self, meta: &SnapshotMeta, data: &[u8]) -> io::Result<SnapshotData> {
        let mut staged = self.stage(meta, |w| w.write_all(data))?;
        self.seal_once(&mut staged)?;
        Ok(staged.data)
    }

    /// [`SnapshotFile::stage`], retried while the disk refuses.
    pub fn stage_retrying(
        &self,
        meta: &SnapshotMeta,
        mut data: impl FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<Staged> {
        self.retrying("snapshot: write", || self.stage(meta, &mut data))
    }

    /// Writes `meta` and `data` as the snapshot, durably; blocking. While the disk refuses the
    /// write (full, or failing), the fault is reported and the write retried with backoff; it
    /// gives up only once `closing` is set.
    pub fn write(&self, meta: &SnapshotMeta, data: &[u8]) -> io::Result<()> {
        self.write_and_open(meta, data).map(drop)
    }

    /// [`SnapshotFile::write`], answering the snapshot written, open.
    pub fn write_and_open(&self, meta: &SnapshotMeta, data: &[u8]) -> io::Result<SnapshotData> {
        self.write_with(meta, |w| w.write_all(data))
    }

    /// `attempt` until it succeeds, reporting the disk's fault meanwhile.
    fn retrying<T>(&self, what: &str, mut attempt: impl FnMut() -> io::Result<T>) -> io::Result<T> {
        let mut retry = Retry::new(&self.closing);
        loop {
            let error = match attempt() {
                Ok(done) => {
                    self.health().clear();
                    return Ok(done);
                }
                Err(e) => e,
            };
            self.health().set_fault(&error.to_string());
            if !retry.wait(what, &error) {
                return Err(error);
            }
        }
    }
}
