//! The InstallSnapshot body: an 8-byte big-endian length, the vote and meta as JSON, then the
//! snapshot bytes unchanged (JSON would have spelled every byte as a number, 4x the size).
//!
//! Both ends stream it: the sender hands the snapshot's bytes to the connection in
//! [`CHUNK`]-sized slices of the one buffer the state machine gave it, and the receiver
//! appends each chunk to one buffer sized from [`SIZE_HEADER`] as it arrives. A snapshot is in
//! memory once on each side, never as a request body plus a decoded copy.

use bytes::Bytes;

use super::super::types::{SnapshotMeta, Vote};

/// Bytes per chunk of the streamed body.
pub const CHUNK: usize = 1 << 20;

/// The vote and meta are a few KiB of JSON (the membership); more is not a snapshot.
const MAX_HEAD: usize = 16 << 20;

/// Header giving the length of the snapshot data, so the receiver allocates once.
pub const SIZE_HEADER: &str = "X-Etcd-Snapshot-Size";

/// The body's head: the length prefix and the vote and meta.
pub fn encode(vote: &Vote, meta: &SnapshotMeta) -> serde_json::Result<Vec<u8>> {
    let head = serde_json::to_vec(&(vote, meta))?;
    let mut out = Vec::with_capacity(8 + head.len());
    out.extend_from_slice(&(head.len() as u64).to_be_bytes());
    out.extend_from_slice(&head);
    Ok(out)
}

/// The whole body as a stream of chunks that borrow from `data` (no copy).
pub fn chunks(
    head: Vec<u8>,
    data: Vec<u8>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let data = Bytes::from(data);
    let parts = (0..data.len().div_ceil(CHUNK)).map(move |i| {
        let end = ((i + 1) * CHUNK).min(data.len());
        Ok(data.slice(i * CHUNK..end))
    });
    futures::stream::iter(std::iter::once(Ok(Bytes::from(head))).chain(parts))
}

/// Why a received body is not a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("snapshot body too short")]
    Truncated,
    #[error("snapshot header: {0}")]
    Header(String),
    #[error("snapshot body larger than {0} bytes")]
    TooLarge(usize),
}

/// Builds a snapshot from the body's chunks as they arrive.
pub struct Receiver {
    limit: usize,
    expected: usize,
    /// The prefix until the head is complete.
    prefix: Vec<u8>,
    head: Option<(Vote, SnapshotMeta)>,
    data: Vec<u8>,
}

impl Receiver {
    /// `expected` is the sender's [`SIZE_HEADER`] (a hint: never trusted beyond `limit`).
    pub fn new(expected: usize, limit: usize) -> Receiver {
        Receiver {
            limit,
            expected: expected.min(limit),
            prefix: Vec::new(),
            head: None,
            data: Vec::new(),
        }
    }

    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), DecodeError> {
        while self.head.is_none() && !chunk.is_empty() {
            let need = self.head_len()?.unwrap_or(8);
            let take = (need - self.prefix.len()).min(chunk.len());
            self.prefix.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.head_len()? == Some(self.prefix.len()) {
                let head = serde_json::from_slice(&self.prefix[8..])
                    .map_err(|e| DecodeError::Header(e.to_string()))?;
                self.head = Some(head);
                self.prefix = Vec::new();
                self.data = Vec::with_capacity(self.expected);
            }
        }
        if self.data.len() + chunk.len() > self.limit {
            return Err(DecodeError::TooLarge(self.limit));
        }
        self.data.extend_from_slice(chunk);
        Ok(())
    }

    /// The prefix and head's total length, once the prefix is in.
    fn head_len(&self) -> Result<Option<usize>, DecodeError> {
        let Some(len) = self.prefix.first_chunk::<8>() else {
            return Ok(None);
        };
        match usize::try_from(u64::from_be_bytes(*len)) {
            Ok(n) if n <= MAX_HEAD => Ok(Some(8 + n)),
            _ => Err(DecodeError::TooLarge(MAX_HEAD)),
        }
    }

    pub fn finish(self) -> Result<(Vote, SnapshotMeta, Vec<u8>), DecodeError> {
        let (vote, meta) = self.head.ok_or(DecodeError::Truncated)?;
        Ok((vote, meta, self.data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn sample() -> (Vote, SnapshotMeta) {
        (Vote::new(3, 7), SnapshotMeta::default())
    }

    #[tokio::test]
    async fn a_body_survives_any_chunking() {
        let (vote, meta) = sample();
        let data: Vec<u8> = (0..(2 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        let head = encode(&vote, &meta).unwrap_or_default();
        let body: Vec<Bytes> = chunks(head, data.clone())
            .map(|c| c.unwrap_or_default())
            .collect()
            .await;
        assert_eq!(body.len(), 4, "head and three data chunks");
        let flat: Vec<u8> = body.concat();
        for step in [1, 3, 8, 9, 1000, CHUNK, flat.len()] {
            let mut r = Receiver::new(data.len(), 1 << 30);
            for piece in flat.chunks(step) {
                r.push(piece).unwrap_or_else(|e| panic!("step {step}: {e}"));
            }
            let (v, m, d) = r.finish().unwrap_or_else(|e| panic!("step {step}: {e}"));
            assert_eq!((v, m), (vote, meta.clone()));
            assert!(d == data, "step {step}: data differs");
        }
    }

    #[test]
    fn short_or_oversized_bodies_are_refused() {
        let (vote, meta) = sample();
        let head = encode(&vote, &meta).unwrap_or_default();
        let mut r = Receiver::new(0, 16);
        assert!(r.push(&head[..5]).is_ok());
        assert!(matches!(r.finish(), Err(DecodeError::Truncated)));
        let mut r = Receiver::new(0, 16);
        assert!(r.push(&head).is_ok());
        assert!(matches!(r.push(&[0; 17]), Err(DecodeError::TooLarge(16))));
        let mut r = Receiver::new(0, 1 << 20);
        assert!(matches!(
            r.push(&[0, 0, 0, 0, 0, 0, 0, 2, b'{', b'x']),
            Err(DecodeError::Header(_))
        ));
    }
}
