//! The box's mount tree. The parent builds a [`MountPlan`]: every path as a `CString` and every
//! bind source as a detached mount tree (`open_tree` + `mount_setattr`, so read-only,
//! `nosuid`/`nodev` and private propagation hold recursively before the tree is ever attached).
//! The child runs the plan's steps without allocating.
//!
//! The whole tree, in a new mount namespace (a copy of the host's):
//!
//! 1. make `/` private (nothing propagates back to the host);
//! 2. mount a small tmpfs at [`NEW_ROOT`] (of the box's namespace only) as the new `/`;
//! 3. create mount points and attach the trees, mount `/proc`, `/dev`, `/tmp`, the workdir;
//! 4. make the new root and `/dev` read-only, `pivot_root` into it and detach the old root.
//!
//! That is the same for every box but `/proc`, `/tmp`, the workdir and the caller's mounts, so
//! a sandbox of more than one run builds the rest once (in the background, from its start), as
//! a [`Template`]: a mount namespace of its own whose root is the read-only default tree, with
//! empty mount points for the per-box mounts. It holds the host's trees as they were then (a
//! mount made under `/usr` later is not in it). A box's init enters the template and takes a
//! private copy of it (`setns` + `unshare`: a copy of a dozen mounts instead of the host's, no
//! pivot, no detach of the host's mounts, which waits for an RCU grace period), and mounts only
//! its own `/proc`, `/tmp`, workdir and the caller's binds on top. The copies share the template's read-only mounts and nothing writable: the
//! template's root, `/dev`, `/usr`, `/etc` are read-only mounts in every copy. A mount point
//! that the template's root lacks (a destination like `/sub` or `/judge/input`) is made there by
//! the supervisor, through a writable mount of the template's root filesystem that no box can
//! reach: an empty directory (or file), owned by root, read-only in every box, and there for
//! every later box of the sandbox (its name comes from a run's spec, never from a box). A mount
//! that replaces a default one, anything under `/dev` or `/proc`, or a mount point that would
//! be a file for one run and a directory for another makes that run build its whole tree the
//! first way instead.
//!
//! Needs Linux 5.12+ (`mount_setattr`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::spec::BindMount;

/// Where the new root is built, inside the box's private mount namespace (the host's /tmp
/// only serves as a mount point there; nothing is written to it).
pub const NEW_ROOT: &str = "/tmp";

const AT_RECURSIVE: libc::c_uint = 0x8000;
const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;

/// Top-level host directories of the default tree (symlinks are recreated as symlinks).
const DEFAULT_DIRS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/// Files and directories of the host's /etc that the dynamic loader, compilers and language
/// runtimes read. /etc/shadow and the rest of /etc stay out.
const DEFAULT_ETC: &[&str] = &[
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "passwd", "group", "nsswitch.conf", "localtime",
    "hosts", "host.conf",
];
/// Prefixes of /etc entries that runtimes need (java-17-openjdk, python3.11, ...).
const DEFAULT_ETC_PREFIXES: &[&str] = &["java-", "python3"];
/// Device nodes of the box's /dev, bound from the host's.
const DEV_NODES: &[&str] = &["null", "zero", "full", "random", "urandom"];
/// Symlinks of the box's /dev.
const DEV_LINKS: &[(&str, &str)] =
    &[("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")];

#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("mount destination {dest:?} must be an absolute path without '..' and not '/'")]
    BadDest { dest: PathBuf },
    #[error("bind source {src}: {source}")]
    Source { src: PathBuf, source: io::Error },
    #[error("path {path:?} contains a NUL byte")]
    Nul { path: PathBuf },
    #[error("prepare the box's /etc snapshot at {path}: {source}")]
    Snapshot { path: PathBuf, source: io::Error },
    #[error("build the template mount tree: {step}: {source}")]
    Template { step: String, source: io::Error },
    #[error("make the mount point {path} in the template mount tree: {source}")]
    MountPoint { path: PathBuf, source: io::Error },
}

/// What the host offers for the default tree, read once per sandbox.
#[derive(Clone, Debug)]
pub struct DefaultTree {
    /// (destination in the box, source on the host, kind)
    entries: Vec<(PathBuf, PathBuf, HostKind)>,
    /// The box's /dev nodes: name and device number, copied from the host's.
    dev_nodes: Vec<(&'static str, libc::dev_t)>,
}

#[derive(Clone, Debug)]
enum HostKind {
    Bind { is_dir: bool },
    Symlink(PathBuf),
}

/// The entries of the host's /etc that go into the box.
fn etc_entries() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = DEFAULT_ETC.iter().map(|e| Path::new("/etc").join(e)).collect();
    if let Ok(rd) = fs::read_dir("/etc") {
        let mut extra: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| DEFAULT_ETC_PREFIXES.iter().any(|p| e.file_name().to_string_lossy().starts_with(p)))
            .map(|e| e.path())
            .collect();
        extra.sort();
        paths.extend(extra);
    }
    paths.retain(|p| fs::symlink_metadata(p).is_ok());
    paths
}

impl DefaultTree {
    /// Reads the host's tree and prepares the box's /etc as a snapshot under
    /// `<state_dir>/etc/<fingerprint>`: one bind mount per run instead of one per file.
    pub fn scan(state_dir: &Path) -> Result<Self, MountError> {
        let mut entries = Vec::new();
        for d in DEFAULT_DIRS {
            let p = PathBuf::from(d);
            let Ok(meta) = fs::symlink_metadata(&p) else { continue };
            let kind = if meta.file_type().is_symlink() {
                match fs::read_link(&p) {
                    Ok(t) => HostKind::Symlink(t),
                    Err(_) => continue,
                }
            } else {
                HostKind::Bind { is_dir: meta.is_dir() }
            };
            entries.push((p.clone(), p, kind));
        }
        let etc_root = state_dir.join("etc");
        // What is chosen from /etc: an index made under another choice does not count.
        let choice = format!("{DEFAULT_ETC:?}{DEFAULT_ETC_PREFIXES:?}");
        let etc = match etc_snapshot::cached(&etc_root, &choice) {
            Some(dir) => dir,
            None => etc_snapshot::prepare(&etc_root, &etc_entries(), &choice)?,
        };
        entries.push((PathBuf::from("/etc"), etc, HostKind::Bind { is_dir: true }));
        let dev_nodes = DEV_NODES
            .iter()
            .filter_map(|n| {
                use std::os::unix::fs::{FileTypeExt, MetadataExt};
                let m = fs::metadata(Path::new("/dev").join(n)).ok()?;
                m.file_type().is_char_device().then_some((*n, m.rdev()))
            })
            .collect();
        Ok(DefaultTree { entries, dev_nodes })
    }
}

/// The box's /etc: a copy of the chosen host entries, made once per change of the host's files.
mod etc_snapshot {
    use std::collections::hash_map::DefaultHasher;
    use std::fs;
    use std::hash::{Hash, Hasher};
    use std::io;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::{Path, PathBuf};

    use super::MountError;

    fn err(path: &Path) -> impl FnOnce(io::Error) -> MountError + '_ {
        move |source| MountError::Snapshot { path: path.to_owned(), source }
    }

    /// Hashes names, types, sizes, modes and times of everything under `paths`. Symlinks inside
    /// directories are not read one by one: a symlink cannot be changed in place, so adding,
    /// replacing or removing one changes its directory's mtime, which is hashed (this keeps the
    /// hundreds of links of /etc/alternatives out of the per-start cost). The index line of every
    /// path hashed but those symlinks goes to `seen` (`None` if one cannot be written).
    fn fingerprint(paths: &[PathBuf], h: &mut DefaultHasher, seen: &mut Option<Vec<String>>) {
        for p in paths {
            let Ok(m) = fs::symlink_metadata(p) else { continue };
            (p, m.mode(), m.size(), m.mtime(), m.mtime_nsec(), m.ino()).hash(h);
            if let Some(lines) = seen {
                match index_line(p, &m) {
                    Some(l) => lines.push(l),
                    None => *seen = None,
                }
            }
            if m.file_type().is_symlink() {
                fs::read_link(p).ok().hash(h);
            } else if m.is_dir() {
                let mut kids: Vec<PathBuf> = Vec::new();
                let mut links: Vec<std::ffi::OsString> = Vec::new();
                for e in fs::read_dir(p).into_iter().flatten().flatten() {
                    match e.file_type() {
                        Ok(t) if t.is_symlink() => links.push(e.file_name()),
                        _ => kids.push(e.path()),
                    }
                }
                links.sort();
                links.hash(h);
                kids.sort();
                fingerprint(&kids, h, seen);
            }
        }
    }

    fn copy(src: &Path, dest: &Path) -> Result<(), MountError> {
        let m = fs::symlink_metadata(src).map_err(err(src))?;
        if m.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(src).map_err(err(src))?, dest).map_err(err(dest))?;
        } else if m.is_dir() {
            fs::create_dir(dest).map_err(err(dest))?;
            for e in fs::read_dir(src).map_err(err(src))?.flatten() {
                copy(&e.path(), &dest.join(e.file_name()))?;
            }
            fs::set_permissions(dest, fs::Permissions::from_mode(m.mode() & 0o7777)).map_err(err(dest))?;
        } else if m.is_file() {
            fs::copy(src, dest).map_err(err(src))?;
        }
        Ok(())
    }

    /// The index of the last snapshot, under the snapshots' root.
    const INDEX: &str = "index";

    /// What the index records of a path: inode, mode, size, mtime and ctime (the ctime cannot
    /// be set back), then the path. `None` if the path cannot be written on a line.
    fn index_line(p: &Path, m: &fs::Metadata) -> Option<String> {
        let path = p.to_str().filter(|p| !p.contains('\n'))?;
        Some(format!(
            "{} {} {} {} {} {} {} {path}",
            m.ino(),
            m.mode(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        ))
    }

    /// The last snapshot, if nothing the index records has changed since: the directories that
    /// hold the chosen entries (their times change when an entry is added, removed, renamed or
    /// replaced, symlinks included), the entries, and every file and directory under them but
    /// the symlinks (covered by their directories). That is what the fingerprint covers, for one
    /// `lstat` per recorded path instead of reading every directory. `choice` names what was
    /// chosen from the directories (the index of another choice does not count).
    pub fn cached(root: &Path, choice: &str) -> Option<PathBuf> {
        let text = fs::read_to_string(root.join(INDEX)).ok()?;
        let mut lines = text.lines();
        let (name, key) = lines.next()?.strip_prefix("snapshot ")?.split_once(' ')?;
        if key != choice_key(choice) {
            return None;
        }
        let dir = root.join(name);
        for line in lines {
            let path = line.splitn(8, ' ').nth(7)?;
            let p = Path::new(path);
            let now = fs::symlink_metadata(p).ok().and_then(|m| index_line(p, &m));
            if now.as_deref() != Some(line) {
                return None;
            }
        }
        dir.is_dir().then_some(dir)
    }

    fn choice_key(choice: &str) -> String {
        let mut h = DefaultHasher::new();
        choice.hash(&mut h);
        format!("{:016x}", h.finish())
    }

    /// Records `seen` as what snapshot `name` was made of, under `choice`.
    fn write_index(root: &Path, name: &str, choice: &str, seen: Option<Vec<String>>) {
        let Some(seen) = seen else { return };
        let mut text = format!("snapshot {name} {}\n", choice_key(choice));
        for line in seen {
            text.push_str(&line);
            text.push('\n');
        }
        let tmp = root.join(format!(".{INDEX}-{}", std::process::id()));
        // Best effort: without an index the next start computes the fingerprint.
        if fs::write(&tmp, text).and_then(|()| fs::rename(&tmp, root.join(INDEX))).is_err() {
            let _ = fs::remove_file(&tmp);
        }
    }

    /// Returns the snapshot directory for the current contents of `paths`, making it if needed,
    /// and indexes it under `choice` (see [`cached`]).
    pub fn prepare(root: &Path, paths: &[PathBuf], choice: &str) -> Result<PathBuf, MountError> {
        // The index records the times the fingerprint saw, before anything is copied: a change
        // from then on shows at the next start. The directories holding the entries first
        // (new entries next to them, e.g. a new java-* directory).
        let mut seen = Some(Vec::new());
        let mut parents: Vec<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
        parents.dedup();
        for p in parents {
            let line = fs::symlink_metadata(p).ok().and_then(|m| index_line(p, &m));
            match (line, &mut seen) {
                (Some(l), Some(lines)) => lines.push(l),
                _ => seen = None,
            }
        }
        let mut h = DefaultHasher::new();
        fingerprint(paths, &mut h, &mut seen);
        let name = format!("{:016x}", h.finish());
        let dir = root.join(&name);
        if dir.is_dir() {
            write_index(root, &name, choice, seen);
            return Ok(dir);
        }
        fs::create_dir_all(root).map_err(err(root))?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let tmp = root.join(format!(".build-{}-{nanos}", std::process::id()));
        fs::create_dir(&tmp).map_err(err(&tmp))?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).map_err(err(&tmp))?;
        let built = paths.iter().try_for_each(|p| copy(p, &tmp.join(p.file_name().unwrap_or_default())));
        let res = built.and_then(|()| match fs::rename(&tmp, &dir) {
            Ok(()) => Ok(()),
            // Another process made the same snapshot first.
            Err(_) if dir.is_dir() => Ok(()),
            Err(e) => Err(err(&dir)(e)),
        });
        if res.is_err() || tmp.exists() {
            let _ = fs::remove_dir_all(&tmp);
        }
        if res.is_ok() {
            write_index(root, &name, choice, seen);
        }
        res.map(|()| dir)
    }
}

/// One step of the plan, run by the child.
#[derive(Debug)]
pub(crate) enum Op {
    /// `mount(NULL, "/", NULL, MS_REC|MS_PRIVATE)`.
    PrivateRoot,
    Tmpfs { target: CString, flags: libc::c_ulong, data: CString },
    Mkdir { path: CString },
    /// An empty file to bind a file onto.
    Mkfile { path: CString },
    Symlink { target: CString, path: CString },
    /// A character device node (in /dev's tmpfs).
    Mknod { path: CString, dev: libc::dev_t },
    /// Attach a detached mount tree prepared by the parent (the descriptor is the parent's,
    /// inherited by the child; see [`MountPlan::trees`]).
    Attach { tree: RawFd, target: CString },
    Proc { target: CString },
    /// Make the mount at `target` read-only (the mount, not the filesystem), with `flags`
    /// (nosuid, nodev, noexec) as the mount's only other flags.
    ReadOnly { target: CString, flags: libc::c_ulong },
    /// `pivot_root` into `new_root`, detach the old root, `chdir("/")`.
    PivotRoot { new_root: CString },
    /// Enter the template's mount namespace and take a private copy of it (see [`Template`]).
    EnterTemplate { ns: RawFd },
}

/// The prepared mount steps, what each one does (for error messages) and the detached trees
/// they attach.
#[derive(Debug, Default)]
pub struct MountPlan {
    pub(crate) ops: Vec<Op>,
    descriptions: Vec<String>,
    /// The trees of the `Attach` steps. The child inherits the descriptors at clone; the parent
    /// closes these once the child has them.
    trees: Vec<OwnedFd>,
    /// Whether the steps start from the template (a namespace the child enters) rather than
    /// from a new copy of the host's mount namespace, made at clone.
    on_template: bool,
}

impl MountPlan {
    /// Splits the plan: the steps for the child, the descriptions for error messages, and the
    /// tree descriptors (to close once the child has its copies).
    pub(crate) fn split(self) -> (Vec<Op>, Vec<String>, Vec<OwnedFd>) {
        (self.ops, self.descriptions, self.trees)
    }

    fn push(&mut self, op: Op, description: String) {
        self.ops.push(op);
        self.descriptions.push(description);
    }

    /// Descriptors the child must keep open until it has run the plan.
    pub(crate) fn fds(&self) -> Vec<RawFd> {
        let template = self.ops.iter().filter_map(|op| match op {
            Op::EnterTemplate { ns } => Some(*ns),
            _ => None,
        });
        self.trees.iter().map(|t| t.as_raw_fd()).chain(template).collect()
    }

    /// Whether the child needs a new mount namespace (a copy of the host's) at clone: not when
    /// the plan starts from the template.
    pub(crate) fn needs_new_namespace(&self) -> bool {
        !self.on_template
    }
}

/// Per-run settings of the tree.
pub struct TreeSettings<'a> {
    pub uid: u32,
    pub gid: u32,
    pub tmp_bytes: u64,
    pub workdir_bytes: u64,
    pub workdir: &'a Path,
    pub mounts: &'a [BindMount],
}

impl TreeSettings<'_> {
    /// For the default entries, which use none of the settings.
    fn none() -> TreeSettings<'static> {
        TreeSettings { uid: 0, gid: 0, tmp_bytes: 0, workdir_bytes: 0, workdir: Path::new("/"), mounts: &[] }
    }
}

fn cstring(p: &Path) -> Result<CString, MountError> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| MountError::Nul { path: p.to_owned() })
}

/// `/box/../x` and relative paths are refused; `//a/./b/` becomes `/a/b`.
fn normalize_dest(dest: &Path) -> Result<PathBuf, MountError> {
    let mut out = PathBuf::from("/");
    if !dest.is_absolute() {
        return Err(MountError::BadDest { dest: dest.to_owned() });
    }
    for c in dest.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            Component::ParentDir | Component::Prefix(_) => return Err(MountError::BadDest { dest: dest.to_owned() }),
        }
    }
    if out == Path::new("/") {
        return Err(MountError::BadDest { dest: dest.to_owned() });
    }
    Ok(out)
}

/// A detached copy of the host tree at `src`, with `attrs` set recursively.
fn detached_tree(src: &Path, attrs: u64) -> Result<OwnedFd, MountError> {
    let err = |source| MountError::Source { src: src.to_owned(), source };
    let c = cstring(src)?;
    // SAFETY: open_tree(2) with a valid NUL-terminated path; returns a new descriptor we own.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | AT_RECURSIVE,
        )
    };
    if fd < 0 {
        return Err(err(io::Error::last_os_error()));
    }
    // SAFETY: the kernel just returned this descriptor and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    // Private: a clone of a shared host mount would stay in the host's peer group, and mounts
    // made on it in a box (a bind under /usr) would propagate to the host.
    let attr = libc::mount_attr { attr_set: attrs, attr_clr: 0, propagation: libc::MS_PRIVATE, userns_fd: 0 };
    // SAFETY: mount_setattr(2) on our descriptor with an empty path and a correctly sized struct.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint | AT_RECURSIVE,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    if rc < 0 {
        return Err(err(io::Error::last_os_error()));
    }
    Ok(fd)
}

struct Builder {
    plan: MountPlan,
    root: PathBuf,
    made: BTreeSet<PathBuf>,
}

impl Builder {
    fn new(root: &str) -> Self {
        let mut made = BTreeSet::new();
        made.insert(PathBuf::from("/"));
        Builder { plan: MountPlan::default(), root: PathBuf::from(root), made }
    }

    fn in_root(&self, dest: &Path) -> PathBuf {
        self.root.join(dest.strip_prefix("/").unwrap_or(dest))
    }

    /// Creates `dest`'s parents (and `dest` itself when `dir`) in the new root, once each.
    fn mkdirs(&mut self, dest: &Path, dir: bool) -> Result<(), MountError> {
        let mut cur = PathBuf::from("/");
        let comps: Vec<_> = dest.components().skip(1).collect();
        let n = comps.len();
        for (i, c) in comps.into_iter().enumerate() {
            cur.push(c);
            if i + 1 == n && !dir {
                break;
            }
            if self.made.insert(cur.clone()) {
                let p = self.in_root(&cur);
                self.plan.push(Op::Mkdir { path: cstring(&p)? }, format!("create directory {}", cur.display()));
            }
        }
        Ok(())
    }

    fn bind(&mut self, src: &Path, dest: &Path, attrs: u64, is_dir: Option<bool>) -> Result<(), MountError> {
        let is_dir = match is_dir {
            Some(d) => d,
            None => fs::metadata(src).map_err(|source| MountError::Source { src: src.to_owned(), source })?.is_dir(),
        };
        let tree = detached_tree(src, attrs)?;
        self.mkdirs(dest, is_dir)?;
        let target = self.in_root(dest);
        if !is_dir {
            self.plan.push(Op::Mkfile { path: cstring(&target)? }, format!("create mount point {}", dest.display()));
        }
        let ro = if attrs & MOUNT_ATTR_RDONLY != 0 { "read-only" } else { "read-write" };
        self.plan.push(
            Op::Attach { tree: tree.as_raw_fd(), target: cstring(&target)? },
            format!("bind {} on {} ({ro})", src.display(), dest.display()),
        );
        self.plan.trees.push(tree);
        Ok(())
    }

    fn symlink(&mut self, target: &Path, dest: &Path) -> Result<(), MountError> {
        self.mkdirs(dest, false)?;
        let path = self.in_root(dest);
        self.plan.push(
            Op::Symlink { target: cstring(target)?, path: cstring(&path)? },
            format!("symlink {} -> {}", dest.display(), target.display()),
        );
        Ok(())
    }

    fn tmpfs(&mut self, dest: &Path, flags: libc::c_ulong, data: &str) -> Result<(), MountError> {
        self.mkdirs(dest, true)?;
        let target = self.in_root(dest);
        self.plan.push(
            Op::Tmpfs { target: cstring(&target)?, flags, data: CString::new(data).expect("no NUL in tmpfs options") },
            format!("mount tmpfs on {} ({data})", dest.display()),
        );
        Ok(())
    }

    fn read_only(&mut self, dest: &Path, flags: libc::c_ulong) -> Result<(), MountError> {
        let target = self.in_root(dest);
        self.plan.push(Op::ReadOnly { target: cstring(&target)?, flags }, format!("make {} read-only", dest.display()));
        Ok(())
    }
}

/// What goes where in the new root, before it becomes steps.
enum Entry<'a> {
    /// Host source and kind.
    Host(&'a Path, &'a HostKind),
    User(&'a BindMount),
    Tmp,
    Workdir,
}

/// Everything of a box's tree but `/proc` and `/dev`: the default tree, then the user's mounts
/// (a user mount on the same destination replaces the default one), sorted so that parents
/// come before children.
fn entries<'a>(tree: &'a DefaultTree, s: &TreeSettings<'a>) -> Result<Vec<(PathBuf, Entry<'a>)>, MountError> {
    let mut entries: Vec<(PathBuf, Entry)> = Vec::new();
    let mut user: Vec<(PathBuf, &BindMount)> = Vec::new();
    for m in s.mounts {
        let dest = normalize_dest(&m.dest)?;
        user.retain(|(d, _)| *d != dest);
        user.push((dest, m));
    }
    let taken = |p: &Path| user.iter().any(|(d, _)| d == p);
    for (dest, src, kind) in &tree.entries {
        if !taken(dest) {
            entries.push((dest.clone(), Entry::Host(src, kind)));
        }
    }
    if !taken(Path::new("/tmp")) {
        entries.push((PathBuf::from("/tmp"), Entry::Tmp));
    }
    let workdir = normalize_dest(s.workdir).unwrap_or_else(|_| PathBuf::from(crate::spec::DEFAULT_WORKDIR));
    let default_workdir = PathBuf::from(crate::spec::DEFAULT_WORKDIR);
    if !taken(&default_workdir) {
        entries.push((default_workdir.clone(), Entry::Workdir));
    }
    if workdir != default_workdir && !taken(&workdir) && !entries.iter().any(|(d, _)| *d == workdir) {
        // A --chdir elsewhere that nothing mounts: a writable tmpfs there as well.
        entries.push((workdir, Entry::Workdir));
    }
    for (d, m) in user {
        entries.push((d, Entry::User(m)));
    }
    // Parents first; equal depth in path order (stable for user mounts given in order).
    entries.sort_by(|a, b| a.0.components().count().cmp(&b.0.components().count()).then(a.0.cmp(&b.0)));
    Ok(entries)
}

/// Read-only, nosuid, nodev: the attributes of the default binds and of `--ro-bind`.
const RO: u64 = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

/// The steps of one entry.
fn add_entry(b: &mut Builder, dest: &Path, e: &Entry, s: &TreeSettings) -> Result<(), MountError> {
    let size = |bytes: u64| bytes.max(4096);
    match e {
        Entry::Host(p, HostKind::Bind { is_dir }) => b.bind(p, dest, RO, Some(*is_dir)),
        Entry::Host(_, HostKind::Symlink(t)) => b.symlink(t, dest),
        Entry::User(m) => {
            let attrs = if m.writable { MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV } else { RO };
            b.bind(&m.src, dest, attrs, None)
        }
        Entry::Tmp => b.tmpfs(dest, libc::MS_NOSUID | libc::MS_NODEV, &format!("size={},mode=1777", size(s.tmp_bytes))),
        Entry::Workdir => b.tmpfs(
            dest,
            libc::MS_NOSUID | libc::MS_NODEV,
            &format!("size={},mode=0755,uid={},gid={}", size(s.workdir_bytes), s.uid, s.gid),
        ),
    }
}

/// The new root's tmpfs at [`NEW_ROOT`] of a new mount namespace made private.
fn start_root(b: &mut Builder) -> Result<(), MountError> {
    b.plan.push(Op::PrivateRoot, "make / private".into());
    b.plan.push(
        Op::Tmpfs {
            target: cstring(Path::new(NEW_ROOT))?,
            flags: libc::MS_NOSUID | libc::MS_NODEV,
            data: c"size=1m,nr_inodes=4096,mode=0755".to_owned(),
        },
        "mount the new root tmpfs".into(),
    );
    Ok(())
}

/// `/dev`, the read-only root and the pivot into it.
fn finish_root(b: &mut Builder, tree: &DefaultTree) -> Result<(), MountError> {
    // A minimal /dev: a tmpfs with the few character devices a program needs (made with mknod,
    // the host's device numbers), then read-only. No block devices, no /dev/mem, no kmsg.
    let dev = Path::new("/dev");
    b.tmpfs(dev, libc::MS_NOSUID | libc::MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755")?;
    for (n, rdev) in &tree.dev_nodes {
        let path = b.in_root(&dev.join(n));
        b.plan.push(Op::Mknod { path: cstring(&path)?, dev: *rdev }, format!("create /dev/{n}"));
    }
    for (n, t) in DEV_LINKS {
        b.symlink(Path::new(t), &dev.join(n))?;
    }
    b.read_only(dev, libc::MS_NOSUID | libc::MS_NOEXEC)?;

    b.read_only(Path::new("/"), libc::MS_NOSUID | libc::MS_NODEV)?;
    b.plan.push(Op::PivotRoot { new_root: cstring(Path::new(NEW_ROOT))? }, "pivot_root into the new root".into());
    Ok(())
}

/// `/proc` of the box's pid namespace.
fn mount_proc(b: &mut Builder) -> Result<(), MountError> {
    b.mkdirs(Path::new("/proc"), true)?;
    let proc_target = b.in_root(Path::new("/proc"));
    b.plan.push(Op::Proc { target: cstring(&proc_target)? }, "mount /proc".into());
    Ok(())
}

/// Builds the plan of one box: on the template when the template can serve it, otherwise the
/// whole tree (see the module's documentation).
pub fn plan(tree: &DefaultTree, template: Option<&Template>, s: &TreeSettings) -> Result<MountPlan, MountError> {
    let entries = entries(tree, s)?;
    if let Some(t) = template {
        if let Some(p) = plan_on_template(t, &entries, s)? {
            return Ok(p);
        }
    }
    let mut b = Builder::new(NEW_ROOT);
    start_root(&mut b)?;
    for (dest, e) in &entries {
        add_entry(&mut b, dest, e, s)?;
    }
    mount_proc(&mut b)?;
    finish_root(&mut b, tree)?;
    Ok(b.plan)
}

/// The plan on the template, or `None` when the run needs what the template cannot give:
/// a mount that replaces a default one, anything under `/dev` or `/proc`, or a mount point in
/// the template's root that is a file for one run and a directory for another.
fn plan_on_template(t: &Template, entries: &[(PathBuf, Entry)], s: &TreeSettings) -> Result<Option<MountPlan>, MountError> {
    let mut b = Builder::new("/");
    b.made.extend(t.defaults.iter().cloned());
    b.made.extend(t.dirs());
    b.plan.on_template = true;
    b.plan.push(Op::EnterTemplate { ns: t.ns.as_raw_fd() }, "enter a copy of the default tree".into());
    // What is mounted in the box: mount points below these are not in the template's root.
    let mut mounts: Vec<&Path> = t.defaults.iter().map(PathBuf::as_path).collect();
    mounts.extend([Path::new("/dev"), Path::new("/proc")]);
    for (dest, e) in entries {
        match e {
            Entry::Host(..) => continue,
            // Replacing a default mount: it is in the template.
            Entry::User(_) if t.defaults.iter().any(|d| d == dest) => return Ok(None),
            _ => {}
        }
        if dest.starts_with("/dev") || dest.starts_with("/proc") {
            return Ok(None);
        }
        add_entry(&mut b, dest, e, s)?;
        mounts.push(dest);
    }
    // Mount points in the template's root filesystem are made there, by the supervisor (the
    // boxes' copies are read-only); the rest are steps of the box's init.
    let MountPlan { ops, descriptions, trees, on_template } = b.plan;
    let mut plan = MountPlan { ops: Vec::new(), descriptions: Vec::new(), trees, on_template };
    let mut points: Vec<(PathBuf, bool)> = Vec::new();
    for (op, description) in ops.into_iter().zip(descriptions) {
        let point = match &op {
            Op::Mkdir { path } => Some((path, true)),
            Op::Mkfile { path } => Some((path, false)),
            _ => None,
        };
        if let Some((path, is_dir)) = point {
            let path = Path::new(std::ffi::OsStr::from_bytes(path.as_bytes()));
            let parent = path.parent().unwrap_or(Path::new("/"));
            if !mounts.iter().any(|m| parent.starts_with(m)) {
                points.push((path.to_owned(), is_dir));
                continue;
            }
        }
        plan.push(op, description);
    }
    if !t.add_mount_points(&points)? {
        return Ok(None);
    }
    plan.push(Op::Proc { target: c"/proc".to_owned() }, "mount /proc".into());
    Ok(Some(plan))
}

/// A template being built in a background thread (see [`Template::build_in_background`]).
#[derive(Debug)]
pub struct PendingTemplate {
    handle: Mutex<Option<std::thread::JoinHandle<Result<Template, MountError>>>>,
    built: OnceLock<Option<Template>>,
}

impl PendingTemplate {
    /// The template, once built (waiting for it the first time); `None` if it could not be
    /// built, and then every box builds its whole tree (it is only a shortcut).
    pub fn get(&self) -> Option<&Template> {
        self.built
            .get_or_init(|| {
                let handle = self.handle.lock().unwrap_or_else(|p| p.into_inner()).take()?;
                match handle.join() {
                    Ok(Ok(t)) => Some(t),
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "no template mount tree: every box builds its whole tree");
                        None
                    }
                    Err(_) => None,
                }
            })
            .as_ref()
    }
}

/// The default tree of a sandbox, built once in a mount namespace of its own (see the module's
/// documentation). Dropping it releases the namespace (boxes keep their copies).
#[derive(Debug)]
pub struct Template {
    ns: OwnedFd,
    /// The template's root filesystem through a writable mount of it that is in no namespace:
    /// where the supervisor adds mount points (never reachable from a box).
    root: OwnedFd,
    /// What the template's root holds besides the default mounts: path and whether it is a
    /// directory. Grows when a run needs a mount point that is not there yet; never shrinks (an
    /// entry removed under a box's mount would unmount it).
    made: Mutex<BTreeMap<PathBuf, bool>>,
    /// Destinations of the default mounts.
    defaults: Vec<PathBuf>,
}

impl Template {
    /// Builds the template from `tree`, in a thread of its own (which leaves the process's
    /// mount namespace and is gone when this returns).
    pub fn build(tree: &DefaultTree) -> Result<Template, MountError> {
        std::thread::scope(|sc| sc.spawn(|| Template::build_here(tree)).join()).unwrap_or_else(|_| {
            Err(MountError::Template { step: "build in a thread".into(), source: io::Error::other("the thread panicked") })
        })
    }

    /// Starts building the template in a background thread; the first run that needs it waits
    /// for it. Most of the work is a wait (detaching the host's mounts waits for an RCU grace
    /// period), which so overlaps with the rest of the sandbox's start.
    pub fn build_in_background(tree: DefaultTree) -> io::Result<PendingTemplate> {
        let handle = std::thread::Builder::new()
            .name("judge-template".into())
            .spawn(move || Template::build_here(&tree))?;
        Ok(PendingTemplate { handle: Mutex::new(Some(handle)), built: OnceLock::new() })
    }

    /// Builds the template in the calling thread, which it moves to the template's mount
    /// namespace for good: only for a thread of its own.
    fn build_here(tree: &DefaultTree) -> Result<Template, MountError> {
        let mut b = Builder::new(NEW_ROOT);
        start_root(&mut b)?;
        for (dest, src, kind) in &tree.entries {
            add_entry(&mut b, dest, &Entry::Host(src, kind), &TreeSettings::none())?;
        }
        // Mount points of the per-box mounts.
        let mut made = BTreeMap::new();
        for d in ["/tmp", crate::spec::DEFAULT_WORKDIR, "/proc"] {
            b.mkdirs(Path::new(d), true)?;
            made.insert(PathBuf::from(d), true);
        }
        made.insert(PathBuf::from("/dev"), true);
        finish_root(&mut b, tree)?;
        let defaults = tree.entries.iter().map(|(d, _, _)| d.clone()).collect();
        let (ops, descriptions, trees) = b.plan.split();
        let built = build_template_namespace(&ops);
        drop(trees);
        match built {
            Ok((ns, root)) => Ok(Template { ns, root, made: Mutex::new(made), defaults }),
            Err((step, errno)) => Err(MountError::Template {
                step: descriptions.get(step).cloned().unwrap_or_else(|| "enter a new mount namespace".into()),
                source: io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// The directories the template's root holds (mount points of earlier runs included).
    fn dirs(&self) -> Vec<PathBuf> {
        let made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        made.iter().filter(|(_, is_dir)| **is_dir).map(|(p, _)| p.clone()).collect()
    }

    /// Makes the mount points (in order: parents first) in the template's root, empty and
    /// owned by root: directories 0755, files 0644. Returns false if one exists with the other
    /// type (that run builds its whole tree instead).
    fn add_mount_points(&self, points: &[(PathBuf, bool)]) -> Result<bool, MountError> {
        if points.is_empty() {
            return Ok(true);
        }
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        for (path, is_dir) in points {
            match made.get(path) {
                Some(d) if d == is_dir => continue,
                Some(_) => return Ok(false),
                None => {}
            }
            let err = |source| MountError::MountPoint { path: path.clone(), source };
            let rel = cstring(path.strip_prefix("/").unwrap_or(path))?;
            let root = self.root.as_raw_fd();
            let mode: libc::mode_t = if *is_dir { 0o755 } else { 0o644 };
            // SAFETY: mkdirat(2)/openat(2)/close(2) relative to our own directory descriptor,
            // with a NUL-terminated path.
            let rc = unsafe {
                if *is_dir {
                    libc::mkdirat(root, rel.as_ptr(), mode)
                } else {
                    let fd = libc::openat(root, rel.as_ptr(), libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC, mode);
                    if fd >= 0 {
                        libc::close(fd);
                    }
                    fd.min(0)
                }
            };
            if rc < 0 {
                return Err(err(io::Error::last_os_error()));
            }
            // Exactly the mode, whatever this process's umask.
            // SAFETY: fchmodat(2) relative to our own directory descriptor.
            if unsafe { libc::fchmodat(root, rel.as_ptr(), mode, 0) } < 0 {
                return Err(err(io::Error::last_os_error()));
            }
            made.insert(path.clone(), *is_dir);
        }
        Ok(true)
    }
}

/// In the calling thread: a new mount namespace, the steps, and descriptors of the namespace
/// and of a writable mount of its root filesystem that is in no namespace. Fails with the index
/// of the step (`usize::MAX` outside the steps) and the errno.
fn build_template_namespace(ops: &[Op]) -> Result<(OwnedFd, OwnedFd), (usize, i32)> {
    let errno = || io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
    // SAFETY: unshare(2) of the mount namespace (and, implied, of the filesystem attributes:
    // root, cwd, umask) of this thread only.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } < 0 {
        return Err((usize::MAX, errno()));
    }
    // Modes are exactly the ones asked for (this thread's own umask since the unshare).
    // SAFETY: umask(2) has no failure mode.
    unsafe { libc::umask(0) };
    // SAFETY: open(2) of a constant path; the descriptor is ours.
    let fd = unsafe { libc::open(c"/proc/thread-self/ns/mnt".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err((usize::MAX, errno()));
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let ns = unsafe { OwnedFd::from_raw_fd(fd) };
    for (i, op) in ops.iter().enumerate() {
        apply(op).map_err(|e| (i, e))?;
    }
    // A detached copy of the root mount (the root tmpfs alone), made writable.
    // SAFETY: open_tree(2) of "/" (the template's root since the pivot), returning a descriptor
    // we own; mount_setattr(2) on it with a correctly sized struct.
    let root = unsafe {
        let fd = libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c"/".as_ptr(), OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint);
        if fd < 0 {
            return Err((usize::MAX, errno()));
        }
        let root = OwnedFd::from_raw_fd(fd as RawFd);
        let attr = libc::mount_attr { attr_set: 0, attr_clr: MOUNT_ATTR_RDONLY, propagation: 0, userns_fd: 0 };
        let rc = libc::syscall(
            libc::SYS_mount_setattr,
            root.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        );
        if rc < 0 {
            return Err((usize::MAX, errno()));
        }
        root
    };
    Ok((ns, root))
}

/// Runs one step. Called in the child: no allocation, no locks, raw system calls only (see
/// [`crate::child`]). Returns the errno on failure.
pub(crate) fn apply(op: &Op) -> Result<(), i32> {
    use crate::child::sys::sys;
    let null = std::ptr::null::<libc::c_char>();
    // SAFETY (whole function): each call is a plain syscall on NUL-terminated strings and
    // descriptors prepared by the parent and alive for the duration of the call.
    let res = unsafe {
        match op {
            Op::PrivateRoot => sys!(libc::SYS_mount, null, c"/".as_ptr(), null, libc::MS_REC | libc::MS_PRIVATE, 0),
            Op::Tmpfs { target, flags, data } => {
                sys!(libc::SYS_mount, c"tmpfs".as_ptr(), target.as_ptr(), c"tmpfs".as_ptr(), *flags, data.as_ptr())
            }
            Op::Mkdir { path } => match sys!(libc::SYS_mkdir, path.as_ptr(), 0o755) {
                Err(libc::EEXIST) => Ok(0),
                other => other,
            },
            Op::Mkfile { path } => {
                let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC;
                sys!(libc::SYS_open, path.as_ptr(), flags, 0o644).and_then(|fd| sys!(libc::SYS_close, fd))
            }
            Op::Symlink { target, path } => sys!(libc::SYS_symlink, target.as_ptr(), path.as_ptr()),
            // The child runs with umask 0, so the mode is exactly this.
            Op::Mknod { path, dev } => sys!(libc::SYS_mknod, path.as_ptr(), libc::S_IFCHR | 0o666, *dev),
            Op::Attach { tree, target } => sys!(
                libc::SYS_move_mount,
                *tree,
                c"".as_ptr(),
                libc::AT_FDCWD,
                target.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH
            ),
            Op::Proc { target } => sys!(
                libc::SYS_mount,
                c"proc".as_ptr(),
                target.as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                0
            ),
            Op::ReadOnly { target, flags } => sys!(
                libc::SYS_mount,
                null,
                target.as_ptr(),
                null,
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | *flags,
                0
            ),
            Op::EnterTemplate { ns } => sys!(libc::SYS_setns, *ns, libc::CLONE_NEWNS)
                .and_then(|_| sys!(libc::SYS_unshare, libc::CLONE_NEWNS)),
            Op::PivotRoot { new_root } => sys!(libc::SYS_chdir, new_root.as_ptr())
                .and_then(|_| sys!(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()))
                // The old root is now stacked under the new one at "."; detach it.
                .and_then(|_| sys!(libc::SYS_umount2, c".".as_ptr(), libc::MNT_DETACH))
                .and_then(|_| sys!(libc::SYS_chdir, c"/".as_ptr())),
        }
    };
    res.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A template whose root filesystem is the directory `root` (what the supervisor writes
    /// there is checked there); its namespace is never entered by these tests.
    fn fake_template(root: &Path) -> (Template, DefaultTree) {
        let open = |p: &Path, flags: libc::c_int| {
            let c = cstring(p).unwrap();
            // SAFETY: open(2) of a NUL-terminated path; the descriptor is ours.
            let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
            assert!(fd >= 0, "open {}", p.display());
            // SAFETY: fresh descriptor.
            unsafe { OwnedFd::from_raw_fd(fd) }
        };
        let tree = DefaultTree {
            entries: vec![
                (PathBuf::from("/usr"), PathBuf::from("/usr"), HostKind::Bind { is_dir: true }),
                (PathBuf::from("/bin"), PathBuf::from("/bin"), HostKind::Symlink(PathBuf::from("usr/bin"))),
                (PathBuf::from("/etc"), PathBuf::from("/etc"), HostKind::Bind { is_dir: true }),
            ],
            dev_nodes: vec![],
        };
        let made = ["/tmp", "/box", "/proc", "/dev"].iter().map(|d| (PathBuf::from(d), true)).collect();
        let t = Template {
            ns: open(Path::new("/dev/null"), libc::O_RDONLY),
            root: open(root, libc::O_PATH | libc::O_DIRECTORY),
            made: Mutex::new(made),
            defaults: tree.entries.iter().map(|(d, _, _)| d.clone()).collect(),
        };
        (t, tree)
    }

    fn settings<'a>(workdir: &'a Path, mounts: &'a [BindMount]) -> TreeSettings<'a> {
        TreeSettings { uid: 60001, gid: 60001, tmp_bytes: 1 << 20, workdir_bytes: 1 << 20, workdir, mounts }
    }

    fn targets(p: &MountPlan) -> Vec<String> {
        p.ops
            .iter()
            .map(|op| match op {
                Op::EnterTemplate { .. } => "enter".to_string(),
                Op::Tmpfs { target, .. } => format!("tmpfs {}", target.to_str().unwrap()),
                Op::Proc { target } => format!("proc {}", target.to_str().unwrap()),
                Op::Attach { target, .. } => format!("attach {}", target.to_str().unwrap()),
                Op::Mkdir { path } => format!("mkdir {}", path.to_str().unwrap()),
                Op::Mkfile { path } => format!("mkfile {}", path.to_str().unwrap()),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_box_on_the_template_mounts_only_its_own() {
        let root = tempfile::tempdir().unwrap();
        let (t, tree) = fake_template(root.path());
        let p = plan(&tree, Some(&t), &settings(Path::new("/box"), &[])).unwrap();
        assert!(!p.needs_new_namespace());
        assert_eq!(targets(&p), ["enter", "tmpfs /box", "tmpfs /tmp", "proc /proc"]);
        assert!(p.fds().contains(&t.ns.as_raw_fd()), "init keeps the template's namespace open");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0, "nothing written to the template");
    }

    #[test]
    fn missing_mount_points_are_made_in_the_template_by_the_supervisor_once() {
        let root = tempfile::tempdir().unwrap();
        let (t, tree) = fake_template(root.path());
        // A working directory nothing mounts: a tmpfs there, on a mount point the template lacks.
        let p = plan(&tree, Some(&t), &settings(Path::new("/work/dir"), &[])).unwrap();
        assert!(!p.needs_new_namespace());
        assert_eq!(targets(&p), ["enter", "tmpfs /box", "tmpfs /tmp", "tmpfs /work/dir", "proc /proc"]);
        for d in ["work", "work/dir"] {
            let m = fs::metadata(root.path().join(d)).unwrap();
            assert!(m.is_dir());
            assert_eq!(m.permissions().mode() & 0o7777, 0o755, "{d}: exactly 0755 whatever the umask");
        }
        // Known from now on: no step, no write.
        let again = plan(&tree, Some(&t), &settings(Path::new("/work/dir"), &[])).unwrap();
        assert_eq!(targets(&again), targets(&p));
        // Under a box's own mount the box makes its mount points itself.
        let under = plan(&tree, Some(&t), &settings(Path::new("/box/sub"), &[])).unwrap();
        assert_eq!(targets(&under), ["enter", "tmpfs /box", "tmpfs /tmp", "mkdir /box/sub", "tmpfs /box/sub", "proc /proc"]);
    }

    /// Binds need `open_tree`, which needs CAP_SYS_ADMIN.
    fn root_or_skip(test: &str) -> bool {
        // SAFETY: geteuid(2) has no failure mode.
        let root = unsafe { libc::geteuid() } == 0;
        if !root {
            eprintln!("{test}: skipped, binding a tree (open_tree) needs root");
        }
        root
    }

    #[test]
    fn binds_on_the_template_and_the_runs_it_cannot_serve() {
        if !root_or_skip("binds_on_the_template_and_the_runs_it_cannot_serve") {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        fs::write(src.path().join("f"), "x").unwrap();
        let (t, tree) = fake_template(root.path());
        let bind = |s: &Path, d: &str| BindMount { src: s.to_owned(), dest: d.into(), writable: false };
        let m = [bind(src.path(), "/sub"), bind(&src.path().join("f"), "/judge/input")];
        let p = plan(&tree, Some(&t), &settings(Path::new("/box"), &m)).unwrap();
        assert!(!p.needs_new_namespace());
        assert_eq!(targets(&p), ["enter", "tmpfs /box", "attach /sub", "tmpfs /tmp", "attach /judge/input", "proc /proc"]);
        assert!(root.path().join("sub").is_dir() && root.path().join("judge").is_dir());
        assert!(root.path().join("judge/input").is_file());
        // A file where another run had a directory; a mount over a default one; one in /dev:
        // each of these runs builds its whole tree.
        for (s, d) in [(src.path().join("f"), "/sub"), (src.path().to_owned(), "/usr"), (src.path().to_owned(), "/dev/x")] {
            let m = [bind(&s, d)];
            let p = plan(&tree, Some(&t), &settings(Path::new("/box"), &m)).unwrap();
            assert!(p.needs_new_namespace(), "{d}: {:?}", targets(&p));
        }
    }

    #[test]
    fn dest_normalization_refuses_escapes() {
        assert_eq!(normalize_dest(Path::new("//a/./b/")).unwrap(), PathBuf::from("/a/b"));
        assert!(normalize_dest(Path::new("/a/../etc")).is_err());
        assert!(normalize_dest(Path::new("rel")).is_err());
        assert!(normalize_dest(Path::new("/")).is_err());
    }

    #[test]
    fn etc_snapshot_copies_the_chosen_entries_only_and_is_reused() {
        let state = tempfile::tempdir().unwrap();
        let t = DefaultTree::scan(state.path()).unwrap();
        let (_, etc, _) = t.entries.iter().find(|(d, _, _)| d == Path::new("/etc")).unwrap();
        assert!(etc.starts_with(state.path()));
        assert!(etc.join("ld.so.cache").is_file());
        assert!(!etc.join("shadow").exists());
        assert!(!etc.join("gshadow").exists());
        let again = DefaultTree::scan(state.path()).unwrap();
        assert!(again.entries.iter().any(|(d, s, _)| d == Path::new("/etc") && s == etc), "same snapshot reused");
        assert!(t.entries.iter().any(|(d, _, _)| d == Path::new("/usr")));
        assert!(t.dev_nodes.iter().any(|(n, _)| *n == "null"));
    }

    #[test]
    fn etc_snapshot_changes_when_a_file_changes() {
        let src = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let f = src.path().join("passwd");
        fs::write(&f, "a\n").unwrap();
        let one = etc_snapshot::prepare(root.path(), &[f.clone()], "c").unwrap();
        assert_eq!(fs::read_to_string(one.join("passwd")).unwrap(), "a\n");
        fs::write(&f, "bb\n").unwrap();
        let two = etc_snapshot::prepare(root.path(), &[f], "c").unwrap();
        assert_ne!(one, two);
        assert_eq!(fs::read_to_string(two.join("passwd")).unwrap(), "bb\n");
    }

    #[test]
    fn etc_index_vouches_for_the_snapshot_until_something_changes() {
        let src = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let sub = src.path().join("java-x");
        fs::create_dir(&sub).unwrap();
        fs::write(sub.join("conf"), "a\n").unwrap();
        let f = src.path().join("passwd");
        fs::write(&f, "a\n").unwrap();
        let paths = [f.clone(), sub.clone()];
        let one = etc_snapshot::prepare(root.path(), &paths, "c").unwrap();
        assert_eq!(etc_snapshot::cached(root.path(), "c"), Some(one.clone()));
        assert_eq!(etc_snapshot::cached(root.path(), "another choice"), None);
        // A file changed deep down: its times and size.
        fs::write(sub.join("conf"), "bb\n").unwrap();
        assert_eq!(etc_snapshot::cached(root.path(), "c"), None);
        let two = etc_snapshot::prepare(root.path(), &paths, "c").unwrap();
        assert_eq!(etc_snapshot::cached(root.path(), "c"), Some(two.clone()));
        // A new entry next to the chosen ones (a new java-* directory would be one): the
        // holding directory's times.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(src.path().join("other"), "").unwrap();
        assert_eq!(etc_snapshot::cached(root.path(), "c"), None);
        // A symlink replaced inside a chosen directory: that directory's times.
        etc_snapshot::prepare(root.path(), &paths, "c").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::os::unix::fs::symlink("conf", sub.join("link")).unwrap();
        assert_eq!(etc_snapshot::cached(root.path(), "c"), None);
    }
}
