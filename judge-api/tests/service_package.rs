//! Package uploads: the same tree gives the same version from tar, tar.gz and zip; the
//! normalized form is stable; hostile archives are refused naming the entry; the worker cache
//! is atomic and verified.

use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use judge_api::service::package::{self, PackageError, PackageLimits};

fn problems_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../problems")
}

/// (relative path, Some((contents, exec)) for files / None for dirs).
type Tree = Vec<(String, Option<(Vec<u8>, bool)>)>;

/// The tree under `dir`, sorted.
fn tree(dir: &Path) -> Tree {
    fn walk(dir: &Path, rel: &str, out: &mut Tree) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = format!("{rel}{}", e.file_name().to_str().unwrap());
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                out.push((name.clone(), None));
                walk(&e.path(), &format!("{name}/"), out);
            } else {
                assert!(meta.is_file(), "{name}: not a file");
                out.push((name, Some((std::fs::read(e.path()).unwrap(), meta.permissions().mode() & 0o111 != 0))));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// A plain tar of `dir` with its entries under `prefix` ("" for the top).
fn tar_of(dir: &Path, prefix: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    // Entries in reverse order, to show order does not matter.
    for (rel, item) in tree(dir).into_iter().rev() {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(1_700_000_000);
        h.set_uid(1234);
        match item {
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o700);
                h.set_size(0);
                b.append_data(&mut h, format!("{prefix}{rel}/"), std::io::empty()).unwrap();
            }
            Some((data, exec)) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(if exec { 0o700 } else { 0o600 });
                h.set_size(data.len() as u64);
                b.append_data(&mut h, format!("{prefix}{rel}"), &data[..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn zip_of(dir: &Path, prefix: &str) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (rel, item) in tree(dir) {
        match item {
            None => {
                z.add_directory(format!("{prefix}{rel}/"), zip::write::SimpleFileOptions::default()).unwrap();
            }
            Some((data, exec)) => {
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .unix_permissions(if exec { 0o755 } else { 0o644 });
                z.start_file(format!("{prefix}{rel}"), opts).unwrap();
                z.write_all(&data).unwrap();
            }
        }
    }
    z.finish().unwrap().into_inner()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn limits() -> PackageLimits {
    PackageLimits::default()
}

#[test]
fn same_tree_same_version_from_every_format_and_normalized_is_stable() {
    for name in ["hello-ab", "groups-sum", "guess", "testlib-check"] {
        let src = problems_dir().join(name);
        let scratch = tempfile::tempdir().unwrap();
        let tgz = package::unpack_upload(&gzip(&tar_of(&src, &format!("{name}/"))), scratch.path(), limits()).unwrap();
        let zip = package::unpack_upload(&zip_of(&src, ""), scratch.path(), limits()).unwrap();
        let tar = package::unpack_upload(&tar_of(&src, "./"), scratch.path(), limits()).unwrap();
        assert_eq!(tgz.version.len(), 64);
        assert_eq!(tgz.version, zip.version, "{name}: tar.gz vs zip");
        assert_eq!(tgz.version, tar.version, "{name}: tar.gz vs tar");
        assert_eq!(tgz.normalized, zip.normalized, "{name}: normalized bytes");
        assert_eq!(tgz.normalized, tar.normalized, "{name}: normalized bytes");
        assert!(tgz.test_count > 0, "{name}: test count {}", tgz.test_count);
        let loaded = judge_api::problem::load(&src).unwrap();
        assert_eq!(tgz.test_count, loaded.test_cases().len() as i64);
        assert_eq!(tgz.title, loaded.names.first().map(|n| n.1.clone()), "{name}");
        // The unpacked tree is the source tree (modes normalized).
        assert_eq!(tree(&tgz.root()), tree(&src), "{name}: unpacked tree");
        for (rel, _) in tree(&tgz.root()) {
            let mode = std::fs::metadata(tgz.root().join(&rel)).unwrap().permissions().mode() & 0o7777;
            assert!([0o644, 0o755].contains(&mode), "{name}/{rel}: mode {mode:o}");
        }
        // Normalizing the normalized form is the identity.
        let again = package::unpack_upload(&tgz.normalized, scratch.path(), limits()).unwrap();
        assert_eq!(again.version, tgz.version);
        assert_eq!(again.normalized, tgz.normalized);
        assert_eq!(tree(&again.root()), tree(&src));
        assert_eq!(package::tree_version(&again.root()).unwrap(), tgz.version);
    }
}

#[test]
fn any_change_gives_a_new_version() {
    let scratch = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("p");
    copy_dir(&problems_dir().join("hello-ab"), &dir);
    let v0 = package::unpack_upload(&tar_of(&dir, ""), scratch.path(), limits()).unwrap().version;

    // One byte of one test file.
    let f = dir.join("data/secret/1.ans");
    let f = if f.exists() { f } else { tree(&dir).into_iter().find(|(r, i)| r.ends_with(".ans") && i.is_some()).map(|(r, _)| dir.join(r)).unwrap() };
    let orig = std::fs::read(&f).unwrap();
    let mut changed = orig.clone();
    changed[0] ^= 1;
    std::fs::write(&f, &changed).unwrap();
    let v1 = package::unpack_upload(&tar_of(&dir, ""), scratch.path(), limits()).unwrap().version;
    assert_ne!(v0, v1);
    std::fs::write(&f, &orig).unwrap();
    assert_eq!(package::unpack_upload(&tar_of(&dir, ""), scratch.path(), limits()).unwrap().version, v0);

    // The execute bit.
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    let v2 = package::unpack_upload(&tar_of(&dir, ""), scratch.path(), limits()).unwrap().version;
    assert_ne!(v0, v2);
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();

    // An added empty file.
    std::fs::write(dir.join("extra.txt"), "").unwrap();
    let v3 = package::unpack_upload(&tar_of(&dir, ""), scratch.path(), limits()).unwrap().version;
    assert_ne!(v0, v3);
    // A file moved to another name with the same contents.
    std::fs::rename(dir.join("extra.txt"), dir.join("extrb.txt")).unwrap();
    let v4 = package::unpack_upload(&tar_of(&dir, ""), scratch.path(), limits()).unwrap().version;
    assert_ne!(v3, v4);
}

/// A tar with a raw (unchecked) entry appended after the files of `hello-ab`.
fn tar_with(entry: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let src = problems_dir().join("hello-ab");
    b.append_dir_all("hello-ab", &src).unwrap();
    entry(&mut b);
    b.into_inner().unwrap()
}

fn raw_header(path: &[u8], ty: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path);
    h.set_entry_type(ty);
    h.set_mode(0o644);
    h.set_size(size);
    h.set_cksum();
    h
}

fn assert_entry_error(r: Result<package::Unpacked, PackageError>, path: &str, reason_has: &str) {
    match r {
        Err(PackageError::Entry { path: p, reason }) => {
            assert_eq!(p, path);
            assert!(reason.contains(reason_has), "{reason}");
        }
        other => panic!("expected an entry error for {path}, got {other:?}"),
    }
}

#[test]
fn hostile_archives_are_refused_naming_the_entry() {
    let outer = tempfile::tempdir().unwrap();
    let scratch = outer.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let empty = |scratch: &Path| std::fs::read_dir(scratch).unwrap().count() == 0;

    let evil = tar_with(|b| b.append(&raw_header(b"../evil", tar::EntryType::Regular, 4), &b"evil"[..]).unwrap());
    assert_entry_error(package::unpack_upload(&evil, &scratch, limits()), "../evil", "..");
    let evil = tar_with(|b| b.append(&raw_header(b"hello-ab/../../evil", tar::EntryType::Regular, 4), &b"evil"[..]).unwrap());
    assert_entry_error(package::unpack_upload(&gzip(&evil), &scratch, limits()), "hello-ab/../../evil", "..");
    assert!(!outer.path().join("evil").exists());
    let abs = tar_with(|b| b.append(&raw_header(b"/tmp/abs-evil", tar::EntryType::Regular, 4), &b"evil"[..]).unwrap());
    assert_entry_error(package::unpack_upload(&abs, &scratch, limits()), "/tmp/abs-evil", "absolute");

    let symlink = tar_with(|b| {
        let mut h = raw_header(b"hello-ab/data/passwd", tar::EntryType::Symlink, 0);
        h.set_link_name("/etc/passwd").unwrap();
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
    });
    assert_entry_error(package::unpack_upload(&symlink, &scratch, limits()), "hello-ab/data/passwd", "/etc/passwd");
    let hardlink = tar_with(|b| {
        let mut h = raw_header(b"hello-ab/data/shadow", tar::EntryType::Link, 0);
        h.set_link_name("/etc/shadow").unwrap();
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
    });
    assert_entry_error(package::unpack_upload(&hardlink, &scratch, limits()), "hello-ab/data/shadow", "hard link");
    let fifo = tar_with(|b| b.append(&raw_header(b"hello-ab/fifo", tar::EntryType::Fifo, 0), std::io::empty()).unwrap());
    assert_entry_error(package::unpack_upload(&fifo, &scratch, limits()), "hello-ab/fifo", "FIFO");
    let dev = tar_with(|b| b.append(&raw_header(b"hello-ab/sda", tar::EntryType::Block, 0), std::io::empty()).unwrap());
    assert_entry_error(package::unpack_upload(&dev, &scratch, limits()), "hello-ab/sda", "device");

    // A zip symlink.
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.add_symlink("passwd", "/etc/passwd", zip::write::SimpleFileOptions::default()).unwrap();
    let z = z.finish().unwrap().into_inner();
    assert_entry_error(package::unpack_upload(&z, &scratch, limits()), "passwd", "symbolic link");
    // A zip `..` entry.
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file("../evil", zip::write::SimpleFileOptions::default()).unwrap();
    z.write_all(b"evil").unwrap();
    let z = z.finish().unwrap().into_inner();
    assert_entry_error(package::unpack_upload(&z, &scratch, limits()), "../evil", "..");
    assert!(!outer.path().join("evil").exists());

    // A declared size above the limit is refused before any byte is written.
    let huge = tar_with(|b| {
        let h = raw_header(b"hello-ab/huge", tar::EntryType::Regular, 1 << 40);
        let mut raw = b.get_ref().clone();
        raw.extend_from_slice(h.as_bytes());
        *b.get_mut() = raw;
    });
    let small = PackageLimits { max_unpacked_bytes: 1 << 20, max_files: 1000 };
    assert!(matches!(package::unpack_upload(&huge, &scratch, small), Err(PackageError::TooLarge { limit_bytes }) if limit_bytes == 1 << 20));
    // A zip bomb (64 MiB of zeros, deflated) stops at the limit.
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file("zeros", zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)).unwrap();
    let mb = vec![0u8; 1 << 20];
    for _ in 0..64 {
        z.write_all(&mb).unwrap();
    }
    let z = z.finish().unwrap().into_inner();
    assert!(z.len() < 1 << 20, "the bomb is small: {}", z.len());
    assert!(matches!(package::unpack_upload(&z, &scratch, small), Err(PackageError::TooLarge { .. })));
    // Too many files.
    let many = tar_with(|b| {
        for i in 0..2000 {
            b.append(&raw_header(format!("hello-ab/many/{i}").as_bytes(), tar::EntryType::Regular, 0), std::io::empty()).unwrap();
        }
    });
    assert!(matches!(package::unpack_upload(&many, &scratch, small), Err(PackageError::TooManyFiles { limit: 1000 })));

    // No problem.yaml; two top-level directories; a broken problem.yaml.
    let work = tempfile::tempdir().unwrap();
    let p = work.path().join("p");
    copy_dir(&problems_dir().join("hello-ab"), &p);
    std::fs::remove_file(p.join("problem.yaml")).unwrap();
    assert!(matches!(package::unpack_upload(&tar_of(&p, "x/"), &scratch, limits()), Err(PackageError::NoProblemYaml)));
    let mut two = tar::Builder::new(Vec::new());
    two.append_dir_all("a", problems_dir().join("hello-ab")).unwrap();
    two.append_dir_all("b", problems_dir().join("hello-ab")).unwrap();
    let two = two.into_inner().unwrap();
    assert!(matches!(package::unpack_upload(&two, &scratch, limits()), Err(PackageError::NoProblemYaml)));
    std::fs::write(p.join("problem.yaml"), "name: [unclosed\n").unwrap();
    match package::unpack_upload(&tar_of(&p, ""), &scratch, limits()) {
        Err(e @ PackageError::Invalid(_)) => assert!(e.to_string().contains("problem.yaml"), "{e}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    std::fs::write(p.join("problem.yaml"), "problem_format_version: 1999-01\n").unwrap();
    match package::unpack_upload(&tar_of(&p, ""), &scratch, limits()) {
        Err(e @ PackageError::Invalid(_)) => assert!(e.to_string().contains("problem_format_version"), "{e}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Not an archive.
    assert!(matches!(package::unpack_upload(b"hello world", &scratch, limits()), Err(PackageError::UnknownFormat)));
    // Every refusal cleaned up after itself.
    assert!(empty(&scratch), "scratch holds {:?}", std::fs::read_dir(&scratch).unwrap().collect::<Vec<_>>());
}

#[test]
fn cache_is_idempotent_verified_and_atomic() {
    let scratch = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let src = problems_dir().join("hello-ab");
    let up = package::unpack_upload(&zip_of(&src, "hello-ab/"), scratch.path(), limits()).unwrap();
    assert_eq!(package::cached_root(cache.path(), &up.version), None);
    let root = package::cached(cache.path(), &up.version, &up.normalized).unwrap();
    assert_eq!(root, cache.path().join(&up.version));
    assert_eq!(tree(&root), tree(&src));
    assert_eq!(std::fs::metadata(&root).unwrap().permissions().mode() & 0o777, 0o755);
    assert_eq!(package::cached_root(cache.path(), &up.version), Some(root.clone()));
    assert_eq!(package::cached(cache.path(), &up.version, &up.normalized).unwrap(), root);
    judge_api::problem::load(&root).unwrap();
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);

    // A wrong hash is refused and leaves nothing behind.
    let cache2 = tempfile::tempdir().unwrap();
    let wrong = "0".repeat(64);
    match package::cached(cache2.path(), &wrong, &up.normalized) {
        Err(PackageError::HashMismatch { version, actual }) => {
            assert_eq!(version, wrong);
            assert_eq!(actual, up.version);
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    assert_eq!(std::fs::read_dir(cache2.path()).unwrap().count(), 0);
    assert_eq!(package::cached_root(cache2.path(), &wrong), None);
    // A version that is not a hash never reaches the file system.
    assert!(package::cached(cache2.path(), "../x", &up.normalized).is_err());
    assert!(package::cached(cache2.path(), &up.version, b"not gzip").is_err());
    assert_eq!(std::fs::read_dir(cache2.path()).unwrap().count(), 0);

    // Racing unpackers all end with the same tree.
    let cache3 = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| package::cached(cache3.path(), &up.version, &up.normalized).unwrap())).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), cache3.path().join(&up.version));
        }
    });
    assert_eq!(std::fs::read_dir(cache3.path()).unwrap().count(), 1);
    assert_eq!(tree(&cache3.path().join(&up.version)), tree(&src));
}
