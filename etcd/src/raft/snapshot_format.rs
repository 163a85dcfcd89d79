//! The bytes of a snapshot file, read and written as a stream.
//!
//! Layout: `MAGIC`, the meta as JSON behind a little-endian u64 length, the store's snapshot
//! bytes behind another, then the SHA-1 of everything before it. The same bytes travel to a
//! joining member verbatim, so the file a member receives is the file it keeps.
//!
//! [`Verifier`] checks those bytes as they are pushed through it, a chunk at a time: whatever
//! the chunking, it finds the meta, hands back the slice of each chunk that is store data, and
//! at the end says whether the file was whole. [`DataReader`] is the pull side of the same
//! parser: a reader over the store data of a file, for a decoder that reads as it goes.

#[cfg(test)]
use std::io::Write;
use std::io::{self, Read};
use std::ops::Range;

use sha1::{Digest, Sha1};

use super::types::SnapshotMeta;

pub const MAGIC: &[u8; 8] = b"ETCDSNP1";
const DIGEST_LEN: usize = 20;
/// The meta is the membership: a few KiB of JSON. Far more is not a snapshot file.
const MAX_META: u64 = 16 << 20;

/// Why bytes are not a whole snapshot file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("not a snapshot file (bad magic)")]
    BadMagic,
    #[error("truncated in its {0}")]
    Truncated(&'static str),
    #[error("a {0}-byte meta section is not a snapshot's")]
    MetaTooLarge(u64),
    #[error("meta does not decode: {0}")]
    Meta(serde_json::Error),
    #[error("store data of {0} bytes is larger than the {1} bytes allowed")]
    TooLarge(u64, u64),
    #[error("stray bytes after the checksum")]
    Stray,
    #[error("checksum mismatch")]
    Checksum,
}

impl From<FormatError> for io::Error {
    fn from(e: FormatError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Stage {
    Magic,
    MetaLen,
    Meta,
    DataLen,
    Data,
    Digest,
    Done,
}

/// Checks a snapshot file pushed through it in chunks of any size.
pub struct Verifier {
    stage: Stage,
    /// Bytes of the current fixed-size field (magic, a length, the digest) or of the meta.
    field: Vec<u8>,
    /// Bytes of the current section still to come.
    left: u64,
    limit: u64,
    /// `None` for a file already verified: its structure is still checked, its bytes are not
    /// hashed again (SHA-1 of a large store is seconds of work in a debug build).
    hasher: Option<Sha1>,
    meta: Option<SnapshotMeta>,
}

impl Verifier {
    /// `limit` bounds the store data (a received file is refused as soon as its length says
    /// it would exceed it).
    pub fn new(limit: u64) -> Verifier {
        Verifier {
            stage: Stage::Magic,
            field: Vec::with_capacity(MAGIC.len()),
            left: MAGIC.len() as u64,
            limit,
            hasher: Some(Sha1::new()),
            meta: None,
        }
    }

    /// A verifier for bytes already verified once (a file this member received or wrote).
    pub fn trusting() -> Verifier {
        Verifier {
            hasher: None,
            ..Verifier::new(u64::MAX)
        }
    }

    fn hash(&mut self, part: &[u8]) {
        if let Some(h) = &mut self.hasher {
            h.update(part);
        }
    }

    /// The meta, once its section has gone through.
    pub fn meta(&self) -> Option<&SnapshotMeta> {
        self.meta.as_ref()
    }

    /// Whether the store data has begun (or is over): the meta and the data length are known.
    fn in_data(&self) -> bool {
        self.stage >= Stage::Data
    }

    /// Take in `chunk`; returns the range of it that is store data (empty when none is).
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<Range<usize>, FormatError> {
        let whole = chunk.len();
        let mut data = 0..0;
        while !chunk.is_empty() {
            let at = whole - chunk.len();
            let take = usize::try_from(self.left)
                .unwrap_or(usize::MAX)
                .min(chunk.len());
            let (part, rest) = chunk.split_at(take);
            chunk = rest;
            match self.stage {
                Stage::Done => return Err(FormatError::Stray),
                Stage::Digest => self.field.extend_from_slice(part),
                Stage::Data => {
                    self.hash(part);
                    data = at..at + take;
                }
                _ => {
                    self.hash(part);
                    self.field.extend_from_slice(part);
                }
            }
            self.left -= take as u64;
            if self.left == 0 {
                self.next_stage()?;
            }
        }
        Ok(data)
    }

    /// The current section is complete: check it and set up the next.
    fn next_stage(&mut self) -> Result<(), FormatError> {
        let field = std::mem::take(&mut self.field);
        let len = || u64::from_le_bytes(field.as_slice().try_into().unwrap_or([0; 8]));
        let (stage, left) = match self.stage {
            Stage::Magic if field != MAGIC.as_slice() => return Err(FormatError::BadMagic),
            Stage::Magic => (Stage::MetaLen, 8),
            Stage::MetaLen if len() > MAX_META => return Err(FormatError::MetaTooLarge(len())),
            Stage::MetaLen => (Stage::Meta, len()),
            Stage::Meta => {
                self.meta = Some(serde_json::from_slice(&field).map_err(FormatError::Meta)?);
                (Stage::DataLen, 8)
            }
            Stage::DataLen if len() > self.limit => {
                return Err(FormatError::TooLarge(len(), self.limit));
            }
            Stage::DataLen => (Stage::Data, len()),
            Stage::Data => (Stage::Digest, DIGEST_LEN as u64),
            Stage::Digest => {
                if let Some(h) = self.hasher.take()
                    && h.finalize().as_slice() != field.as_slice()
                {
                    return Err(FormatError::Checksum);
                }
                (Stage::Done, u64::MAX)
            }
            Stage::Done => return Err(FormatError::Stray),
        };
        self.stage = stage;
        self.left = left;
        if left == 0 {
            // An empty meta or data section ends where it starts.
            return self.next_stage();
        }
        Ok(())
    }

    /// The meta of a whole, intact file; an error if the bytes stopped short of that.
    pub fn finish(self) -> Result<SnapshotMeta, FormatError> {
        if self.stage != Stage::Done {
            return Err(self.truncated_error());
        }
        self.meta.ok_or(FormatError::Truncated("meta"))
    }

    /// The error for bytes that stop here.
    fn truncated_error(&self) -> FormatError {
        FormatError::Truncated(match self.stage {
            Stage::Magic | Stage::MetaLen => "header",
            Stage::Meta | Stage::DataLen => "meta",
            Stage::Data => "data",
            Stage::Digest | Stage::Done => "checksum",
        })
    }
}

/// Writes a snapshot file from `meta` and `data` into `w`, hashing as it goes (no copy of the
/// data is made). The daemon streams instead (`snapshot_write.rs`); this is the reference its
/// bytes are checked against.
#[cfg(test)]
pub fn write(w: &mut impl Write, meta: &SnapshotMeta, data: &[u8]) -> io::Result<()> {
    let meta = serde_json::to_vec(meta).map_err(io::Error::other)?;
    let mut hasher = Sha1::new();
    for part in [
        MAGIC.as_slice(),
        &(meta.len() as u64).to_le_bytes(),
        &meta,
        &(data.len() as u64).to_le_bytes(),
        data,
    ] {
        hasher.update(part);
        w.write_all(part)?;
    }
    w.write_all(&hasher.finalize())
}

/// The head of a snapshot file: magic, the meta, and a data length of zero, which sits in the
/// head's last eight bytes for a writer that learns the length only after streaming the data
/// (see `snapshot_write.rs`; [`write`] is the same layout for data already in memory).
pub fn head(meta: &SnapshotMeta) -> io::Result<Vec<u8>> {
    let meta = serde_json::to_vec(meta).map_err(io::Error::other)?;
    let mut out = Vec::with_capacity(MAGIC.len() + 16 + meta.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(meta.len() as u64).to_le_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(&0u64.to_le_bytes());
    Ok(out)
}

/// The checksum of a file's bytes before it: the SHA-1 of everything `r` yields, read a block
/// at a time.
pub fn digest(mut r: impl Read) -> io::Result<[u8; DIGEST_LEN]> {
    let mut hasher = Sha1::new();
    let mut block = vec![0; BLOCK];
    loop {
        match r.read(&mut block) {
            Ok(0) => return Ok(hasher.finalize().into()),
            Ok(n) => hasher.update(&block[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Block size of [`DataReader`]'s reads from the file.
const BLOCK: usize = 256 << 10;

/// A reader over the store data of the snapshot file `inner`, verifying the whole file.
///
/// Reading ends (returns 0) where the data does; [`DataReader::finish`] then reads the rest
/// and says whether the file was whole and intact.
pub struct DataReader<R> {
    inner: R,
    verifier: Verifier,
    block: Vec<u8>,
    /// The store data in `block` not yet read.
    data: Range<usize>,
    eof: bool,
    /// The first way the bytes were found not to be a snapshot file: reading stops there.
    failed: Option<FormatError>,
}

impl<R: Read> DataReader<R> {
    /// Reads up to the start of the data: the meta is known once this returns.
    pub fn open(inner: R) -> Result<DataReader<R>, io::Error> {
        DataReader::with(inner, Verifier::new(u64::MAX))
    }

    /// [`DataReader::open`] for a file verified before: the checksum is not computed again.
    pub fn open_trusted(inner: R) -> Result<DataReader<R>, io::Error> {
        DataReader::with(inner, Verifier::trusting())
    }

    fn with(inner: R, verifier: Verifier) -> Result<DataReader<R>, io::Error> {
        let mut r = DataReader {
            inner,
            verifier,
            block: vec![0; BLOCK],
            data: 0..0,
            eof: false,
            failed: None,
        };
        while !r.verifier.in_data() && !r.eof {
            r.fill()?;
        }
        if !r.verifier.in_data() {
            return Err(r.verifier.truncated_error().into());
        }
        Ok(r)
    }

    pub fn meta(&self) -> Option<&SnapshotMeta> {
        self.verifier.meta()
    }

    /// Read the next block and push it through the verifier.
    fn fill(&mut self) -> io::Result<()> {
        if let Some(e) = &self.failed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
        }
        let n = loop {
            match self.inner.read(&mut self.block) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        if n == 0 {
            self.eof = true;
            return Ok(());
        }
        match self.verifier.push(&self.block[..n]) {
            Ok(data) => self.data = data,
            Err(e) => {
                let io = io::Error::new(io::ErrorKind::InvalidData, e.to_string());
                self.failed = Some(e);
                return Err(io);
            }
        }
        Ok(())
    }

    /// Read what is left and check the file: whole, intact, nothing after it.
    pub fn finish(mut self) -> Result<SnapshotMeta, io::Error> {
        while !self.eof && self.failed.is_none() {
            // An I/O error is the answer; a format error is kept in `failed`.
            if let Err(e) = self.fill()
                && self.failed.is_none()
            {
                return Err(e);
            }
        }
        match self.failed {
            Some(e) => Err(e.into()),
            None => Ok(self.verifier.finish()?),
        }
    }
}

impl<R: Read> Read for DataReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.data.is_empty() {
            if self.eof || self.verifier.stage > Stage::Data {
                return Ok(0);
            }
            self.fill()?;
        }
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.block[self.data.start..self.data.start + n]);
        self.data.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, &SnapshotMeta::default(), data).unwrap();
        out
    }

    fn push_all(bytes: &[u8], step: usize) -> Result<(SnapshotMeta, Vec<u8>), FormatError> {
        let mut v = Verifier::new(u64::MAX);
        let mut data = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            let r = v.push(piece)?;
            data.extend_from_slice(&piece[r]);
        }
        Ok((v.finish()?, data))
    }

    #[test]
    fn any_chunking_yields_the_meta_and_the_data() {
        for data in [&b""[..], b"x", &[7u8; 3000]] {
            let bytes = file(data);
            for step in [1, 2, 7, 8, 9, 20, 64, 1000, bytes.len()] {
                let (meta, got) = push_all(&bytes, step).unwrap();
                assert_eq!(meta, SnapshotMeta::default());
                assert_eq!(got, data, "step {step}");
            }
        }
    }

    #[test]
    fn every_truncation_and_every_flipped_bit_is_refused() {
        let bytes = file(b"some store bytes");
        for n in 0..bytes.len() {
            assert!(push_all(&bytes[..n], 3).is_err(), "cut at {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(push_all(&b, 5).is_err(), "flip at {i}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(push_all(&longer, 4), Err(FormatError::Stray)));
    }

    #[test]
    fn an_oversized_data_length_is_refused_before_the_data() {
        let bytes = file(&[0; 100]);
        let mut v = Verifier::new(99);
        let head = bytes.len() - 100 - DIGEST_LEN;
        assert!(matches!(
            v.push(&bytes[..head]),
            Err(FormatError::TooLarge(100, 99))
        ));
    }

    /// A reader handing out a few bytes per call, as a socket or a slow disk may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_data_reader_reads_the_data_and_checks_the_rest() {
        let data: Vec<u8> = (0..(3 * BLOCK + 5)).map(|i| (i % 253) as u8).collect();
        let bytes = file(&data);
        for step in [1, 13, BLOCK, bytes.len()] {
            if step == 1 && bytes.len() > 100_000 {
                // One byte per read over megabytes proves nothing 13 does not.
                continue;
            }
            let mut r = DataReader::open(Trickle(&bytes, step)).unwrap();
            assert_eq!(r.meta(), Some(&SnapshotMeta::default()));
            let mut got = Vec::new();
            r.read_to_end(&mut got).unwrap();
            assert!(got == data, "step {step}");
            r.finish().unwrap();
        }
        let mut r = DataReader::open(&bytes[..bytes.len() - 1]).unwrap();
        r.read_to_end(&mut Vec::new()).unwrap();
        assert!(r.finish().is_err());
        assert!(DataReader::open(&bytes[..20]).is_err());
    }
}
