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
