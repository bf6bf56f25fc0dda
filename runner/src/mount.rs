//! The box's mount tree. The parent builds a [`MountPlan`]: every path as a `CString` and every
//! bind source as a detached mount tree (`open_tree` + `mount_setattr`, so read-only and
//! `nosuid`/`nodev` hold recursively before the tree is ever attached). The child, in its new
//! mount namespace, runs the plan's steps without allocating:
//!
//! 1. make `/` private (nothing propagates back to the host);
//! 2. mount a small tmpfs at [`NEW_ROOT`] (of the box's namespace only) as the new `/`;
//! 3. create mount points and attach the trees, mount `/proc`, `/dev`, `/tmp`, the workdir;
//! 4. make the new root and `/dev` read-only, `pivot_root` into it and detach the old root.
//!
//! Needs Linux 5.12+ (`mount_setattr`).

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

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
const MOUNT_ATTR_NOEXEC: u64 = 0x8;

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
}

/// What the host offers for the default tree, read once per sandbox.
#[derive(Clone, Debug)]
pub struct DefaultTree {
    entries: Vec<(PathBuf, HostKind)>,
}

#[derive(Clone, Debug)]
enum HostKind {
    Bind { is_dir: bool },
    Symlink(PathBuf),
}

impl DefaultTree {
    pub fn scan() -> Self {
        let mut paths: Vec<PathBuf> = DEFAULT_DIRS.iter().map(PathBuf::from).collect();
        paths.extend(DEFAULT_ETC.iter().map(|e| Path::new("/etc").join(e)));
        if let Ok(rd) = fs::read_dir("/etc") {
            let mut extra: Vec<PathBuf> = rd
                .flatten()
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    DEFAULT_ETC_PREFIXES.iter().any(|p| n.starts_with(p))
                })
                .map(|e| e.path())
                .collect();
            extra.sort();
            paths.extend(extra);
        }
        let entries = paths
            .into_iter()
            .filter_map(|p| {
                let meta = fs::symlink_metadata(&p).ok()?;
                if meta.file_type().is_symlink() {
                    let target = fs::read_link(&p).ok()?;
                    Some((p, HostKind::Symlink(target)))
                } else {
                    Some((p, HostKind::Bind { is_dir: meta.is_dir() }))
                }
            })
            .collect();
        DefaultTree { entries }
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
    /// Attach a detached mount tree prepared by the parent.
    Attach { tree: OwnedFd, target: CString },
    Proc { target: CString },
    /// Make the mount at `target` read-only (the mount, not the filesystem).
    ReadOnly { target: CString },
    /// `pivot_root` into `new_root`, detach the old root, `chdir("/")`.
    PivotRoot { new_root: CString },
}

/// The prepared mount steps and, for error messages, what each one does.
#[derive(Debug, Default)]
pub struct MountPlan {
    pub(crate) ops: Vec<Op>,
    descriptions: Vec<String>,
}

impl MountPlan {
    /// What each step does, for error messages; closes the prepared trees.
    pub fn into_descriptions(self) -> Vec<String> {
        self.descriptions
    }

    fn push(&mut self, op: Op, description: String) {
        self.ops.push(op);
        self.descriptions.push(description);
    }

    /// Descriptors the child must keep open until it has run the plan.
    pub(crate) fn fds(&self) -> Vec<RawFd> {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Attach { tree, .. } => Some(tree.as_raw_fd()),
                _ => None,
            })
            .collect()
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
    let attr = libc::mount_attr { attr_set: attrs, attr_clr: 0, propagation: 0, userns_fd: 0 };
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
            Op::Attach { tree, target: cstring(&target)? },
            format!("bind {} on {} ({ro})", src.display(), dest.display()),
        );
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

    fn read_only(&mut self, dest: &Path) -> Result<(), MountError> {
        let target = self.in_root(dest);
        self.plan.push(Op::ReadOnly { target: cstring(&target)? }, format!("make {} read-only", dest.display()));
        Ok(())
    }
}

/// What goes where in the new root, before it becomes steps.
enum Entry<'a> {
    Host(&'a Path, &'a HostKind),
    User(&'a BindMount),
    Tmp,
    Workdir,
}

/// Builds the plan: the default tree, then the user's mounts (a user mount on the same
/// destination replaces the default one), sorted so that parents come before children.
pub fn plan(tree: &DefaultTree, s: &TreeSettings) -> Result<MountPlan, MountError> {
    let mut b = Builder { plan: MountPlan::default(), root: PathBuf::from(NEW_ROOT), made: BTreeSet::new() };
    b.plan.push(Op::PrivateRoot, "make / private".into());
    b.made.insert(PathBuf::from("/"));
    b.plan.push(
        Op::Tmpfs {
            target: cstring(Path::new(NEW_ROOT))?,
            flags: libc::MS_NOSUID | libc::MS_NODEV,
            data: c"size=1m,nr_inodes=4096,mode=0755".to_owned(),
        },
        "mount the new root tmpfs".into(),
    );

    let mut entries: Vec<(PathBuf, Entry)> = Vec::new();
    let mut user: Vec<(PathBuf, &BindMount)> = Vec::new();
    for m in s.mounts {
        let dest = normalize_dest(&m.dest)?;
        user.retain(|(d, _)| *d != dest);
        user.push((dest, m));
    }
    let taken = |p: &Path| user.iter().any(|(d, _)| d == p);
    for (p, kind) in &tree.entries {
        if !taken(p) {
            entries.push((p.clone(), Entry::Host(p, kind)));
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
    for (d, m) in &user {
        entries.push((d.clone(), Entry::User(m)));
    }
    // Parents first; equal depth in path order (stable for user mounts given in order).
    entries.sort_by(|a, b| a.0.components().count().cmp(&b.0.components().count()).then(a.0.cmp(&b.0)));

    let ro = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    let size = |bytes: u64| bytes.max(4096);
    for (dest, e) in &entries {
        match e {
            Entry::Host(p, HostKind::Bind { is_dir }) => b.bind(p, dest, ro, Some(*is_dir))?,
            Entry::Host(_, HostKind::Symlink(t)) => b.symlink(t, dest)?,
            Entry::User(m) => {
                let attrs = if m.writable { MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV } else { ro };
                b.bind(&m.src, dest, attrs, None)?
            }
            Entry::Tmp => b.tmpfs(dest, libc::MS_NOSUID | libc::MS_NODEV, &format!("size={},mode=1777", size(s.tmp_bytes)))?,
            Entry::Workdir => b.tmpfs(
                dest,
                libc::MS_NOSUID | libc::MS_NODEV,
                &format!("size={},mode=0755,uid={},gid={}", size(s.workdir_bytes), s.uid, s.gid),
            )?,
        }
    }

    // /proc of the box's pid namespace.
    b.mkdirs(Path::new("/proc"), true)?;
    let proc_target = b.in_root(Path::new("/proc"));
    b.plan.push(Op::Proc { target: cstring(&proc_target)? }, "mount /proc".into());

    // A minimal /dev.
    let dev = Path::new("/dev");
    b.tmpfs(dev, libc::MS_NOSUID | libc::MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755")?;
    for n in DEV_NODES {
        let host = dev.join(n);
        b.bind(&host, &host, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, Some(false))?;
    }
    for (n, t) in DEV_LINKS {
        b.symlink(Path::new(t), &dev.join(n))?;
    }
    b.read_only(dev)?;

    b.read_only(Path::new("/"))?;
    b.plan.push(Op::PivotRoot { new_root: cstring(Path::new(NEW_ROOT))? }, "pivot_root into the new root".into());
    Ok(b.plan)
}

/// Runs one step. Called in the child: no allocation, no locks. Returns the errno on failure.
pub(crate) fn apply(op: &Op) -> Result<(), i32> {
    let null = std::ptr::null::<libc::c_char>();
    // SAFETY (whole function): each call is a plain syscall on NUL-terminated strings and
    // descriptors prepared by the parent and alive for the duration of the call.
    let rc = unsafe {
        match op {
            Op::PrivateRoot => libc::mount(null, c"/".as_ptr(), null, libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()),
            Op::Tmpfs { target, flags, data } => {
                libc::mount(c"tmpfs".as_ptr(), target.as_ptr(), c"tmpfs".as_ptr(), *flags, data.as_ptr().cast())
            }
            Op::Mkdir { path } => {
                let rc = libc::mkdir(path.as_ptr(), 0o755);
                if rc < 0 && errno() == libc::EEXIST {
                    0
                } else {
                    rc
                }
            }
            Op::Mkfile { path } => {
                let fd = libc::open(path.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC, 0o644);
                if fd >= 0 {
                    libc::close(fd);
                    0
                } else {
                    fd
                }
            }
            Op::Symlink { target, path } => libc::symlink(target.as_ptr(), path.as_ptr()),
            Op::Attach { tree, target } => libc::syscall(
                libc::SYS_move_mount,
                tree.as_raw_fd(),
                c"".as_ptr(),
                libc::AT_FDCWD,
                target.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH,
            ) as libc::c_int,
            Op::Proc { target } => libc::mount(
                c"proc".as_ptr(),
                target.as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            ),
            Op::ReadOnly { target } => libc::mount(
                null,
                target.as_ptr(),
                null,
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
                std::ptr::null(),
            ),
            Op::PivotRoot { new_root } => {
                if libc::chdir(new_root.as_ptr()) < 0 {
                    return Err(errno());
                }
                if libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) < 0 {
                    return Err(errno());
                }
                // The old root is now stacked under the new one at "."; detach it.
                if libc::umount2(c".".as_ptr(), libc::MNT_DETACH) < 0 {
                    return Err(errno());
                }
                libc::chdir(c"/".as_ptr())
            }
        }
    };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

pub(crate) fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dest_normalization_refuses_escapes() {
        assert_eq!(normalize_dest(Path::new("//a/./b/")).unwrap(), PathBuf::from("/a/b"));
        assert!(normalize_dest(Path::new("/a/../etc")).is_err());
        assert!(normalize_dest(Path::new("rel")).is_err());
        assert!(normalize_dest(Path::new("/")).is_err());
    }

    #[test]
    fn default_tree_leaves_out_shadow() {
        let t = DefaultTree::scan();
        assert!(t.entries.iter().all(|(p, _)| p != Path::new("/etc/shadow")));
        assert!(t.entries.iter().any(|(p, _)| p == Path::new("/usr")));
    }
}
