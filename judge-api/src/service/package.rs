//! Problem packages as uploaded and stored: a `.tar.gz`, `.tar` or `.zip` of the ICPC/Kattis
//! layout (at the archive's top or inside one top-level directory), unpacked safely (no
//! absolute paths, no `..`, no links leaving the tree, bounded size and file count), checked
//! by the problem parser, identified by the sha256 of its file tree, and stored normalized as a
//! gzipped tar. Workers fetch a version by its hash and cache it unpacked.
//!
//! # Unpacking
//!
//! The format is told by magic bytes (gzip `1f 8b` is a tar.gz, `PK\x03\x04` a zip, `ustar` at
//! offset 257 a plain tar). Only regular files and directories are accepted: links of any kind
//! (symbolic or hard, even ones that would stay inside the tree), device nodes, FIFOs and sparse
//! files are refused with an error naming the entry — a package never needs them, and a tree of
//! plain files is trivially safe to hash, copy and mount. Paths must be relative, UTF-8, without
//! `..` components (`.` and empty components are dropped). Files and directories are counted
//! against [`PackageLimits::max_files`] and bytes written against
//! [`PackageLimits::max_unpacked_bytes`] while unpacking: an entry declaring more than the bytes
//! left, or delivering more than it declared, stops the upload there. Files get mode 0644 (0755
//! when the archive had any execute bit), directories 0755.
//!
//! # Version and normalized form
//!
//! The version is the sha256 of the tree under the package root, visited in sorted order of
//! relative path (`/`-separated): after the tag `judge-package-tree-v1\0`, each directory adds
//! `D`, its path length (u64 LE) and path; each regular file adds `F`, its path length and path,
//! `x` or `-` for the execute bit, its size (u64 LE) and contents. Archive format, entry order,
//! timestamps and owners do not matter; any change of a name, a bit or a byte does.
//!
//! The normalized package is a gzipped tar of the same entries in the same order, with the tree
//! at its top, mtime 0, uid/gid 0, no user names, modes 0755/0644: normalizing it again gives the
//! same bytes.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("package is not a tar, tar.gz or zip archive")]
    UnknownFormat,
    #[error("package archive: {0}")]
    Archive(String),
    #[error("package entry {path:?}: {reason}")]
    Entry { path: String, reason: String },
    #[error("package is larger than {limit_bytes} bytes unpacked")]
    TooLarge { limit_bytes: u64 },
    #[error("package has more than {limit} files")]
    TooManyFiles { limit: usize },
    #[error("package has no problem.yaml (at its top or in one top-level directory)")]
    NoProblemYaml,
    #[error("not a valid problem package: {0}")]
    Invalid(String),
    #[error("{op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
    #[error("package {version}: content hash is {actual}")]
    HashMismatch { version: String, actual: String },
}

/// Bounds on what an upload may unpack to.
#[derive(Clone, Copy, Debug)]
pub struct PackageLimits {
    pub max_unpacked_bytes: u64,
    pub max_files: usize,
}

impl Default for PackageLimits {
    fn default() -> Self {
        PackageLimits { max_unpacked_bytes: 1 << 30, max_files: 100_000 }
    }
}

/// An uploaded package, unpacked and checked.
#[derive(Debug)]
pub struct Unpacked {
    /// sha256 of the file tree (sorted relative paths, modes and contents), lowercase hex.
    pub version: String,
    /// The normalized package: a gzipped tar of the tree, what the store keeps.
    pub normalized: Vec<u8>,
    pub title: Option<String>,
    pub test_count: i64,
    /// Holds the unpacked tree until dropped.
    pub dir: tempfile::TempDir,
}

impl Unpacked {
    /// The package root inside [`Unpacked::dir`] (the directory holding `problem.yaml`).
    pub fn root(&self) -> PathBuf {
        find_root(self.dir.path()).unwrap_or_else(|_| self.dir.path().to_path_buf())
    }
}

const PROBLEM_YAML: &str = "problem.yaml";
const TREE_TAG: &[u8] = b"judge-package-tree-v1\0";
const FILE_MODE: u32 = 0o644;
const EXEC_MODE: u32 = 0o755;
const DIR_MODE: u32 = 0o755;

/// Unpacks an upload into a temp dir under `scratch`, finds the package root, checks it with
/// `problem::load`, hashes and normalizes it.
pub fn unpack_upload(bytes: &[u8], scratch: &Path, limits: PackageLimits) -> Result<Unpacked, PackageError> {
    let format = Format::detect(bytes).ok_or(PackageError::UnknownFormat)?;
    fs::create_dir_all(scratch).map_err(io_err("create scratch directory", scratch))?;
    let dir = tempfile::Builder::new()
        .prefix("upload-")
        .tempdir_in(scratch)
        .map_err(io_err("create temporary directory in", scratch))?;
    unpack(format, bytes, dir.path(), limits)?;
    let root = find_root(dir.path())?;
    let problem = crate::problem::load(&root).map_err(|e| PackageError::Invalid(e.to_string()))?;
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let version = digest_tree(&root, Some(&mut tar))?;
    let normalized = tar
        .into_inner()
        .and_then(|gz| gz.finish())
        .map_err(io_err("write normalized package for", &root))?;
    Ok(Unpacked {
        version,
        normalized,
        title: problem.names.first().map(|(_, name)| name.clone()),
        test_count: problem.test_cases().len() as i64,
        dir,
    })
}

/// The package `version` unpacked in `cache_dir/<version>/` (unpacking `normalized` there
/// once, atomically, verifying the hash); returns the package root.
pub fn cached(cache_dir: &Path, version: &str, normalized: &[u8]) -> Result<PathBuf, PackageError> {
    check_version(version)?;
    let target = cache_dir.join(version);
    if target.is_dir() {
        return Ok(target);
    }
    fs::create_dir_all(cache_dir).map_err(io_err("create package cache", cache_dir))?;
    sweep_stale_unpacks(cache_dir);
    let tmp = tempfile::Builder::new()
        .prefix(UNPACK_PREFIX)
        .tempdir_in(cache_dir)
        .map_err(io_err("create temporary directory in", cache_dir))?;
    if !normalized.starts_with(&[0x1f, 0x8b]) {
        return Err(PackageError::Archive(format!("package {version}: the stored form is not a gzipped tar")));
    }
    unpack(Format::TarGz, normalized, tmp.path(), PackageLimits { max_unpacked_bytes: u64::MAX, max_files: usize::MAX })?;
    let actual = digest_tree::<io::Sink>(tmp.path(), None)?;
    if actual != version {
        return Err(PackageError::HashMismatch { version: version.to_string(), actual });
    }
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(DIR_MODE))
        .map_err(io_err("set the mode of", tmp.path()))?;
    let tmp_path = tmp.keep();
    match fs::rename(&tmp_path, &target) {
        Ok(()) => Ok(target),
        Err(_) if target.is_dir() => {
            // Another process won the race: its tree has the same hash; use it.
            let _ = fs::remove_dir_all(&tmp_path);
            Ok(target)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp_path);
            Err(PackageError::Io { op: "rename unpacked package to", path: target, source: e })
        }
    }
}

const UNPACK_PREFIX: &str = ".unpack-";
/// Unpack directories older than this were left by a process that died while unpacking.
const STALE_UNPACK: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes unpack directories left in `cache_dir` by processes killed while unpacking.
fn sweep_stale_unpacks(cache_dir: &Path) {
    let Ok(entries) = fs::read_dir(cache_dir) else { return };
    for e in entries.flatten() {
        let stale = e.file_name().to_string_lossy().starts_with(UNPACK_PREFIX)
            && e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok()).is_some_and(|age| age > STALE_UNPACK);
        if stale {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// The cached root of `version` if it was unpacked before.
pub fn cached_root(cache_dir: &Path, version: &str) -> Option<PathBuf> {
    check_version(version).ok()?;
    Some(cache_dir.join(version)).filter(|p| p.is_dir())
}

/// The tree hash (the version) of the directory `root`, as defined in the module docs. Fails on
/// anything but regular files and directories.
pub fn tree_version(root: &Path) -> Result<String, PackageError> {
    digest_tree::<io::Sink>(root, None)
}

fn check_version(version: &str) -> Result<(), PackageError> {
    if version.len() == 64 && version.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(PackageError::Invalid(format!("package version {version:?}: expected 64 lowercase hex digits")))
    }
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PackageError {
    let path = path.to_path_buf();
    move |source| PackageError::Io { op, path, source }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    TarGz,
    Tar,
    Zip,
}

impl Format {
    fn detect(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Some(Format::TarGz)
        } else if bytes.starts_with(b"PK\x03\x04") {
            Some(Format::Zip)
        } else if bytes.get(257..262) == Some(b"ustar") {
            Some(Format::Tar)
        } else {
            None
        }
    }
}

/// What an archive entry is, as far as unpacking cares.
enum Kind {
    Dir,
    File { exec: bool, declared_size: u64 },
}

/// Writes entries into `dest`, enforcing the limits.
struct Writer<'a> {
    dest: &'a Path,
    limits: PackageLimits,
    files: usize,
    bytes: u64,
}

impl Writer<'_> {
    /// Adds one entry; `data` is read for files.
    fn add(&mut self, raw_path: &[u8], kind: Kind, data: &mut dyn Read) -> Result<(), PackageError> {
        let display = String::from_utf8_lossy(raw_path).into_owned();
        let entry_err = |reason: String| PackageError::Entry { path: display.clone(), reason };
        let components = clean_path(raw_path).map_err(|r| entry_err(r.to_string()))?;
        if components.is_empty() {
            return match kind {
                Kind::Dir => Ok(()),
                Kind::File { .. } => Err(entry_err("a file without a name".into())),
            };
        }
        self.files += 1;
        if self.files > self.limits.max_files {
            return Err(PackageError::TooManyFiles { limit: self.limits.max_files });
        }
        let (parents, name) = components.split_at(components.len() - 1);
        let parent = self.make_dirs(parents).map_err(|e| entry_err(format!("create its directory: {e}")))?;
        let path = parent.join(name[0]);
        match kind {
            Kind::Dir => {
                make_dir(&path).map_err(|e| entry_err(format!("create directory: {e}")))?;
            }
            Kind::File { exec, declared_size } => {
                let left = self.limits.max_unpacked_bytes.saturating_sub(self.bytes);
                if declared_size > left {
                    return Err(PackageError::TooLarge { limit_bytes: self.limits.max_unpacked_bytes });
                }
                if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                    return Err(entry_err("a file where a directory was".into()));
                }
                let mut file = fs::File::create(&path).map_err(|e| entry_err(format!("create: {e}")))?;
                // Read one byte more than is left so that overshooting is noticed.
                let written = io::copy(&mut data.take(left.saturating_add(1)), &mut file)
                    .map_err(|e| entry_err(format!("unpack: {e}")))?;
                if written > left {
                    return Err(PackageError::TooLarge { limit_bytes: self.limits.max_unpacked_bytes });
                }
                self.bytes += written;
                let mode = if exec { EXEC_MODE } else { FILE_MODE };
                file.set_permissions(fs::Permissions::from_mode(mode))
                    .map_err(|e| entry_err(format!("set mode: {e}")))?;
            }
        }
        Ok(())
    }

    /// Creates the directories `parents` under `dest` (each 0755); returns the innermost.
    fn make_dirs(&mut self, parents: &[&str]) -> io::Result<PathBuf> {
        let mut dir = self.dest.to_path_buf();
        for c in parents {
            dir.push(c);
            make_dir(&dir)?;
        }
        Ok(dir)
    }
}

/// Creates `path` as a 0755 directory unless it is one already.
fn make_dir(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(io::Error::new(io::ErrorKind::AlreadyExists, "a file of that name exists")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir(path)?;
            fs::set_permissions(path, fs::Permissions::from_mode(DIR_MODE))
        }
        Err(e) => Err(e),
    }
}

/// The components of a relative archive path, or why it is refused.
fn clean_path(raw: &[u8]) -> Result<Vec<&str>, &'static str> {
    let path = std::str::from_utf8(raw).map_err(|_| "the path is not UTF-8")?;
    if path.starts_with('/') {
        return Err("absolute paths are not allowed");
    }
    if path.contains('\\') {
        return Err("backslashes are not allowed in paths");
    }
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err("`..` is not allowed in paths"),
            c if c.contains('\0') => return Err("NUL is not allowed in paths"),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn unpack(format: Format, bytes: &[u8], dest: &Path, limits: PackageLimits) -> Result<(), PackageError> {
    let mut w = Writer { dest, limits, files: 0, bytes: 0 };
    match format {
        Format::Tar => unpack_tar(bytes, &mut w),
        Format::TarGz => unpack_tar(flate2::read::GzDecoder::new(bytes), &mut w),
        Format::Zip => unpack_zip(bytes, &mut w),
    }
}

fn unpack_tar<R: Read>(reader: R, w: &mut Writer<'_>) -> Result<(), PackageError> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| PackageError::Archive(format!("read tar: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| PackageError::Archive(format!("read tar entry: {e}")))?;
        let path = entry.path_bytes().into_owned();
        let header = entry.header();
        use tar::EntryType as T;
        let kind = match header.entry_type() {
            T::Regular | T::Continuous => Kind::File {
                exec: header.mode().unwrap_or(0) & 0o111 != 0,
                declared_size: header.size().unwrap_or(u64::MAX),
            },
            T::Directory => Kind::Dir,
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => continue,
            other => {
                let what = match other {
                    T::Symlink => {
                        let target = entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned());
                        format!("a symbolic link (to {:?}); links are not accepted in packages", target.unwrap_or_default())
                    }
                    T::Link => "a hard link; links are not accepted in packages".to_string(),
                    T::Char | T::Block => "a device node; only files and directories are accepted".to_string(),
                    T::Fifo => "a FIFO; only files and directories are accepted".to_string(),
                    T::GNUSparse => "a sparse file; only plain files are accepted".to_string(),
                    t => format!("entry type {:?}; only files and directories are accepted", t.as_byte() as char),
                };
                return Err(PackageError::Entry { path: String::from_utf8_lossy(&path).into_owned(), reason: what });
            }
        };
        w.add(&path, kind, &mut entry)?;
    }
    Ok(())
}

fn unpack_zip(bytes: &[u8], w: &mut Writer<'_>) -> Result<(), PackageError> {
    let mut archive =
        zip::ZipArchive::new(io::Cursor::new(bytes)).map_err(|e| PackageError::Archive(format!("read zip: {e}")))?;
    if archive.len() > w.limits.max_files {
        return Err(PackageError::TooManyFiles { limit: w.limits.max_files });
    }
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| PackageError::Archive(format!("read zip entry {i}: {e}")))?;
        let path = file.name_raw().to_vec();
        let mode = file.unix_mode();
        let type_bits = mode.map(|m| m & 0o170000).unwrap_or(0);
        let kind = if file.is_symlink() || type_bits == 0o120000 {
            return Err(PackageError::Entry {
                path: String::from_utf8_lossy(&path).into_owned(),
                reason: "a symbolic link; links are not accepted in packages".into(),
            });
        } else if file.is_dir() || type_bits == 0o040000 {
            Kind::Dir
        } else if type_bits == 0 || type_bits == 0o100000 {
            Kind::File { exec: mode.unwrap_or(0) & 0o111 != 0, declared_size: file.size() }
        } else {
            return Err(PackageError::Entry {
                path: String::from_utf8_lossy(&path).into_owned(),
                reason: format!("file type {type_bits:o}; only files and directories are accepted"),
            });
        };
        w.add(&path, kind, &mut file)?;
    }
    Ok(())
}

/// The package root under `dir`: `dir` itself when it holds `problem.yaml`, else its one
/// top-level directory (ignoring `__MACOSX` and names beginning with `.`) when that holds it.
fn find_root(dir: &Path) -> Result<PathBuf, PackageError> {
    if dir.join(PROBLEM_YAML).is_file() {
        return Ok(dir.to_path_buf());
    }
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "__MACOSX" {
            continue;
        }
        if entry.file_type().map_err(io_err("stat", &entry.path()))?.is_dir() {
            dirs.push(entry.path());
        }
    }
    match dirs.as_slice() {
        [one] if one.join(PROBLEM_YAML).is_file() => Ok(one.clone()),
        _ => Err(PackageError::NoProblemYaml),
    }
}

/// The entries under `root`, sorted by relative path: (relative path, absolute path, is_dir).
fn list_tree(root: &Path) -> Result<Vec<(String, PathBuf, bool)>, PackageError> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), root.to_path_buf())];
    while let Some((rel, dir)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_err("list", &dir))? {
            let entry = entry.map_err(io_err("list", &dir))?;
            let name = entry.file_name().into_string().map_err(|n| PackageError::Entry {
                path: format!("{rel}{}", n.to_string_lossy()),
                reason: "the name is not UTF-8".into(),
            })?;
            let rel_path = format!("{rel}{name}");
            let path = entry.path();
            let ft = entry.file_type().map_err(io_err("stat", &path))?;
            if ft.is_dir() {
                stack.push((format!("{rel_path}/"), path.clone()));
                out.push((rel_path, path, true));
            } else if ft.is_file() {
                out.push((rel_path, path, false));
            } else {
                return Err(PackageError::Entry { path: rel_path, reason: "neither a file nor a directory".into() });
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A reader that feeds what it reads into a hash.
struct HashingReader<'a, R> {
    inner: R,
    hash: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Hashes the tree under `root` (see the module docs) and, when given, appends it to `tar` in
/// the normalized form.
fn digest_tree<W: Write>(root: &Path, mut tar: Option<&mut tar::Builder<W>>) -> Result<String, PackageError> {
    let mut hash = Sha256::new();
    hash.update(TREE_TAG);
    for (rel, path, is_dir) in list_tree(root)? {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if is_dir {
            hash.update(b"D");
            hash.update((rel.len() as u64).to_le_bytes());
            hash.update(rel.as_bytes());
            if let Some(tar) = tar.as_deref_mut() {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(DIR_MODE);
                header.set_size(0);
                tar.append_data(&mut header, format!("{rel}/"), io::empty())
                    .map_err(io_err("write normalized package entry", &path))?;
            }
            continue;
        }
        let file = fs::File::open(&path).map_err(io_err("open", &path))?;
        let meta = file.metadata().map_err(io_err("stat", &path))?;
        let exec = meta.permissions().mode() & 0o111 != 0;
        let size = meta.len();
        hash.update(b"F");
        hash.update((rel.len() as u64).to_le_bytes());
        hash.update(rel.as_bytes());
        hash.update(if exec { b"x" } else { b"-" });
        hash.update(size.to_le_bytes());
        let mut reader = HashingReader { inner: file.take(size), hash: &mut hash };
        match tar.as_deref_mut() {
            Some(tar) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(if exec { EXEC_MODE } else { FILE_MODE });
                header.set_size(size);
                tar.append_data(&mut header, &rel, &mut reader)
                    .map_err(io_err("write normalized package entry", &path))?;
            }
            None => {
                let read = io::copy(&mut reader, &mut io::sink()).map_err(io_err("read", &path))?;
                if read != size {
                    return Err(PackageError::Io {
                        op: "read (the file changed size)",
                        path,
                        source: io::ErrorKind::UnexpectedEof.into(),
                    });
                }
            }
        }
    }
    Ok(hex::encode(hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_refuses_escapes() {
        assert_eq!(clean_path(b"a/./b//c").unwrap(), vec!["a", "b", "c"]);
        assert!(clean_path(b"../x").is_err());
        assert!(clean_path(b"a/../../x").is_err());
        assert!(clean_path(b"/etc/passwd").is_err());
        assert!(clean_path(b"a\\..\\x").is_err());
        assert!(clean_path(b"\xff").is_err());
        assert!(clean_path(b"./").unwrap().is_empty());
    }

    #[test]
    fn format_by_magic() {
        assert_eq!(Format::detect(&[0x1f, 0x8b, 8]), Some(Format::TarGz));
        assert_eq!(Format::detect(b"PK\x03\x04rest"), Some(Format::Zip));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(Format::detect(&tar), Some(Format::Tar));
        assert_eq!(Format::detect(b"hello"), None);
    }

    #[test]
    fn versions_are_checked_before_use_in_paths() {
        assert!(check_version(&"a".repeat(64)).is_ok());
        assert!(check_version(&"A".repeat(64)).is_err());
        assert!(check_version("../../etc").is_err());
        assert!(cached_root(Path::new("/tmp"), "..").is_none());
    }
}
