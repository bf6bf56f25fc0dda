//! Problem packages as uploaded and stored: a `.tar.gz`, `.tar` or `.zip` of the ICPC/Kattis
//! layout (at the archive's top or inside one top-level directory), unpacked safely (no
//! absolute paths, no `..`, no links leaving the tree, bounded size and file count), checked
//! by the problem parser, identified by the sha256 of its file tree, and stored normalized as a
//! gzipped tar. Workers fetch a version by its hash and cache it unpacked.

use std::path::{Path, PathBuf};

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

/// Unpacks an upload into a temp dir under `scratch`, finds the package root, checks it with
/// `problem::load`, hashes and normalizes it.
pub fn unpack_upload(bytes: &[u8], scratch: &Path, limits: PackageLimits) -> Result<Unpacked, PackageError> {
    todo!("{} {scratch:?} {limits:?}", bytes.len())
}

/// The package `version` unpacked in `cache_dir/<version>/` (unpacking `normalized` there
/// once, atomically, verifying the hash); returns the package root.
pub fn cached(cache_dir: &Path, version: &str, normalized: &[u8]) -> Result<PathBuf, PackageError> {
    todo!("{cache_dir:?} {version} {}", normalized.len())
}

/// The cached root of `version` if it was unpacked before.
pub fn cached_root(cache_dir: &Path, version: &str) -> Option<PathBuf> {
    todo!("{cache_dir:?} {version}")
}
