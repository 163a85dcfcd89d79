//! The InstallSnapshot body: an 8-byte big-endian length, the vote as JSON, then the sender's
//! snapshot file byte for byte (its format carries the meta and a checksum; see
//! `snapshot_format.rs`).
//!
//! Both ends stream it with bounded memory: the sender reads its file in [`CHUNK`]-sized
//! pieces on a blocking thread as the connection takes them, and the receiver writes each
//! chunk to a temporary file in its member dir, verifying the format and checksum on the way,
//! on a blocking thread fed through a short queue. The file received is then a snapshot file,
//! ready to be renamed into place; the store is decoded from it as it is read.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::super::snapshot_file::{SnapshotData, SnapshotFile};
use super::super::types::{SnapshotMeta, Vote};

/// Bytes per chunk of the streamed body.
pub const CHUNK: usize = 1 << 20;

/// The vote is a few dozen bytes of JSON; far more is not a snapshot body.
const MAX_HEAD: usize = 64 << 10;

/// Chunks queued between the connection and the file (bounds the receiver's memory).
const QUEUE: usize = 4;

/// Header giving the length of the snapshot file, so an oversized one is refused at once.
pub const SIZE_HEADER: &str = "X-Etcd-Snapshot-Size";

/// The body's head: the length prefix and the vote.
pub fn encode(vote: &Vote) -> serde_json::Result<Vec<u8>> {
    let head = serde_json::to_vec(vote)?;
    let mut out = Vec::with_capacity(8 + head.len());
    out.extend_from_slice(&(head.len() as u64).to_be_bytes());
    out.extend_from_slice(&head);
    Ok(out)
}

/// The whole body as a stream: the head, then the file in chunks read as they are wanted.
pub fn chunks(
    head: Vec<u8>,
    data: SnapshotData,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let file = futures::stream::unfold((Arc::new(data), 0u64), |(data, at)| async move {
        if at >= data.len() {
            return None;
        }
        let reading = data.clone();
        let read = tokio::task::spawn_blocking(move || reading.read_chunk(at, CHUNK))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r);
        match read {
            // A read error ends the body short: the receiver refuses a file that is not whole.
            Ok(chunk) if !chunk.is_empty() => {
                let next = at + chunk.len() as u64;
                Some((Ok(Bytes::from(chunk)), (data, next)))
            }
            Ok(_) => None,
            Err(e) => Some((Err(e), (data, u64::MAX))),
        }
    });
    futures::StreamExt::chain(futures::stream::once(async { Ok(Bytes::from(head)) }), file)
}

/// Why a received body is not a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("snapshot body too short")]
    Truncated,
    #[error("snapshot header: {0}")]
    Header(String),
    #[error("snapshot body larger than {0} bytes")]
    TooLarge(u64),
    /// The file in the body is not a whole snapshot file, or could not be stored.
    #[error("snapshot file: {0}")]
    File(std::io::Error),
}

/// Receives a snapshot body into a file of the member dir, chunk by chunk.
pub struct Receiver {
    prefix: Vec<u8>,
    vote: Option<Vote>,
    tx: Option<mpsc::Sender<Bytes>>,
    writer: tokio::task::JoinHandle<std::io::Result<(SnapshotMeta, SnapshotData)>>,
}

impl Receiver {
    /// `expected` is the sender's [`SIZE_HEADER`] (a hint: never trusted beyond `limit`).
    pub fn new(
        file: Arc<SnapshotFile>,
        expected: u64,
        limit: u64,
    ) -> Result<Receiver, DecodeError> {
        if expected > limit {
            return Err(DecodeError::TooLarge(limit));
        }
        let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
        let writer = tokio::task::spawn_blocking(move || {
            let mut incoming = file.incoming(limit)?;
            while let Some(chunk) = rx.blocking_recv() {
                incoming.write(&chunk)?;
            }
            incoming.finish()
        });
        Ok(Receiver {
            prefix: Vec::new(),
            vote: None,
            tx: Some(tx),
            writer,
        })
    }

    /// The sender's vote, once the head is in.
    pub fn vote(&self) -> Option<&Vote> {
        self.vote.as_ref()
    }

    pub async fn push(&mut self, mut chunk: Bytes) -> Result<(), DecodeError> {
        while self.vote.is_none() && !chunk.is_empty() {
            let need = self.head_len()?.unwrap_or(8);
            let take = (need - self.prefix.len()).min(chunk.len());
            self.prefix.extend_from_slice(&chunk.split_to(take));
            if self.head_len()? == Some(self.prefix.len()) {
                let vote = serde_json::from_slice(&self.prefix[8..])
                    .map_err(|e| DecodeError::Header(e.to_string()))?;
                self.vote = Some(vote);
                self.prefix = Vec::new();
            }
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let sent = match &self.tx {
            Some(tx) => tx.send(chunk).await.is_ok(),
            None => false,
        };
        if !sent {
            // The writer stopped: it says why.
            self.tx = None;
            return Err(self.writer_error().await);
        }
        Ok(())
    }

    async fn writer_error(&mut self) -> DecodeError {
        match (&mut self.writer).await {
            Ok(Err(e)) => DecodeError::File(e),
            Ok(Ok(_)) => DecodeError::File(std::io::Error::other("writer ended early")),
            Err(e) => DecodeError::File(std::io::Error::other(e)),
        }
    }

    /// The head's total length, once the prefix is in.
    fn head_len(&self) -> Result<Option<usize>, DecodeError> {
        let Some(len) = self.prefix.first_chunk::<8>() else {
            return Ok(None);
        };
        match usize::try_from(u64::from_be_bytes(*len)) {
            Ok(n) if n <= MAX_HEAD => Ok(Some(8 + n)),
            _ => Err(DecodeError::TooLarge(MAX_HEAD as u64)),
        }
    }

    /// The vote and the received file, whole, verified and fsynced, with its meta.
    pub async fn finish(mut self) -> Result<(Vote, SnapshotMeta, SnapshotData), DecodeError> {
        // Closing the queue ends the writer: with the file whole, or failing and removing it.
        self.tx = None;
        let Some(vote) = self.vote.take() else {
            return Err(DecodeError::Truncated);
        };
        let (meta, data) = match (&mut self.writer).await {
            Ok(r) => r.map_err(DecodeError::File)?,
            Err(e) => return Err(DecodeError::File(std::io::Error::other(e))),
        };
        Ok((vote, meta, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn sample() -> Vote {
        Vote::new(3, 7)
    }

    fn dir_with_snapshot(data: &[u8]) -> (tempfile::TempDir, Arc<SnapshotFile>) {
        let dir = tempfile::TempDir::new().unwrap();
        let file = Arc::new(SnapshotFile::new(dir.path(), Arc::default()));
        file.write(&SnapshotMeta::default(), data).unwrap();
        (dir, file)
    }

    fn leftovers(dir: &tempfile::TempDir) -> Vec<String> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "snapshot")
            .collect()
    }

    /// The body of a snapshot holding `data`, and the file it was read from.
    async fn body(data: &[u8]) -> (tempfile::TempDir, Bytes, Vec<u8>) {
        let (dir, file) = dir_with_snapshot(data);
        let (_, sent) = file.current().unwrap().unwrap();
        let parts: Vec<Bytes> = chunks(encode(&sample()).unwrap(), sent)
            .map(|c| c.unwrap())
            .collect()
            .await;
        assert_eq!(parts.len(), 1 + data.len().div_ceil(CHUNK).max(1));
        let whole = std::fs::read(file.path()).unwrap();
        (dir, Bytes::from(parts.concat()), whole)
    }

    async fn receive(rfile: &Arc<SnapshotFile>, body: &Bytes, step: usize) -> SnapshotData {
        let mut r = Receiver::new(rfile.clone(), 0, 1 << 30).unwrap();
        for at in (0..body.len()).step_by(step) {
            let piece = body.slice(at..(at + step).min(body.len()));
            r.push(piece)
                .await
                .unwrap_or_else(|e| panic!("step {step}: {e}"));
        }
        let (v, m, got) = r
            .finish()
            .await
            .unwrap_or_else(|e| panic!("step {step}: {e}"));
        assert_eq!((v, m), (sample(), SnapshotMeta::default()));
        got
    }

    #[tokio::test]
    async fn a_body_survives_any_chunking_and_arrives_as_the_same_file() {
        let (rdir, rfile) = dir_with_snapshot(b"older");
        let small: Vec<u8> = (0..100).collect();
        let big: Vec<u8> = (0..(2 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        let (_d1, small_body, small_file) = body(&small).await;
        let (_d2, big_body, big_file) = body(&big).await;
        let cases = (1..=small_body.len())
            .map(|step| (&small_body, &small_file, step))
            .chain([1000, CHUNK, big_body.len()].map(|step| (&big_body, &big_file, step)));
        for (body, whole, step) in cases {
            let got = receive(&rfile, body, step).await;
            assert_eq!(got.len(), whole.len() as u64);
            assert!(
                &got.read_chunk(0, usize::MAX).unwrap() == whole,
                "step {step}"
            );
            drop(got);
            assert!(leftovers(&rdir).is_empty(), "{:?}", leftovers(&rdir));
        }
    }

    #[tokio::test]
    async fn short_damaged_or_oversized_bodies_are_refused_and_leave_no_file() {
        let (_dir, file) = dir_with_snapshot(b"some store bytes");
        let whole = std::fs::read(file.path()).unwrap();
        let head = encode(&sample()).unwrap();
        let body = [head.as_slice(), &whole].concat();
        let (rdir, rfile) = dir_with_snapshot(b"older");
        // Cut anywhere, or a bit flipped anywhere in the file: refused.
        let mut bodies: Vec<Vec<u8>> = (0..body.len()).map(|n| body[..n].to_vec()).collect();
        for i in head.len()..body.len() {
            let mut b = body.clone();
            b[i] ^= 0x04;
            bodies.push(b);
        }
        for b in bodies {
            let mut r = Receiver::new(rfile.clone(), 0, 1 << 20).unwrap();
            let pushed = r.push(Bytes::from(b)).await;
            let res = match pushed {
                Ok(()) => r.finish().await.map(drop),
                Err(e) => Err(e),
            };
            assert!(res.is_err());
        }
        assert!(leftovers(&rdir).is_empty(), "{:?}", leftovers(&rdir));
        assert!(matches!(
            Receiver::new(rfile.clone(), 17, 16),
            Err(DecodeError::TooLarge(16))
        ));
        let mut r = Receiver::new(rfile.clone(), 0, 4).unwrap();
        let res = match r.push(Bytes::from(body.clone())).await {
            Ok(()) => r.finish().await.map(drop),
            Err(e) => Err(e),
        };
        assert!(matches!(res, Err(DecodeError::File(_))), "{res:?}");
        let mut r = Receiver::new(rfile, 0, 1 << 20).unwrap();
        let bad = Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 2, b'{', b'x']);
        assert!(matches!(r.push(bad).await, Err(DecodeError::Header(_))));
        drop(r);
        // The writer notices the closed queue on its own thread (a blocking-pool thread, which
        // a loaded machine running the whole suite can take seconds to schedule).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut left = leftovers(&rdir);
        while !left.is_empty() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            left = leftovers(&rdir);
        }
        assert!(left.is_empty(), "{left:?}");
    }
}
