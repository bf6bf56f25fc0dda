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
//! a sandbox builds the rest once, as a [`Template`]: a mount namespace of its own whose root is
//! the read-only default tree (steps 1, 2, 4 and the default part of 3, with empty mount points
//! for the per-box mounts). A box's init then enters the template and takes a private copy of
//! it (`setns` + `unshare`: a copy of a dozen mounts instead of the host's, no pivot, no detach
//! of the host's mounts), and mounts only its own `/proc`, `/tmp`, workdir and the caller's
//! binds on top. The copies share the template's read-only mounts and nothing writable: the
//! template's root, `/dev`, `/usr`, `/etc` are read-only mounts in every copy, and whatever
//! would have to be created in the template's root itself (a mount point for a destination that
//! does not exist there, a mount that replaces a default one, anything under `/dev` or
//! `/proc`) makes that run build its whole tree the first way instead.
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
        let etc = etc_snapshot::prepare(&state_dir.join("etc"), &etc_entries())?;
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
    /// hundreds of links of /etc/alternatives out of the per-start cost).
    fn fingerprint(paths: &[PathBuf], h: &mut DefaultHasher) {
        for p in paths {
            let Ok(m) = fs::symlink_metadata(p) else { continue };
            (p, m.mode(), m.size(), m.mtime(), m.mtime_nsec(), m.ino()).hash(h);
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
                fingerprint(&kids, h);
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

    /// Returns the snapshot directory for the current contents of `paths`, making it if needed.
    pub fn prepare(root: &Path, paths: &[PathBuf]) -> Result<PathBuf, MountError> {
        let mut h = DefaultHasher::new();
        fingerprint(paths, &mut h);
        let dir = root.join(format!("{:016x}", h.finish()));
        if dir.is_dir() {
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

/// The plan on the template, or `None` when the run needs what the template cannot give
/// without writing to it.
fn plan_on_template(t: &Template, entries: &[(PathBuf, Entry)], s: &TreeSettings) -> Result<Option<MountPlan>, MountError> {
    let mut b = Builder::new("/");
    b.made.extend(t.top.iter().cloned());
    b.plan.on_template = true;
    b.plan.push(Op::EnterTemplate { ns: t.ns.as_raw_fd() }, "enter a copy of the default tree".into());
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
    }
    // A mount point the template's root lacks would have to be made in it.
    let in_template_root = |p: &CString| Path::new(std::ffi::OsStr::from_bytes(p.as_bytes())).parent() == Some(Path::new("/"));
    let writes_root = b.plan.ops.iter().any(|op| match op {
        Op::Mkdir { path } | Op::Mkfile { path } | Op::Symlink { path, .. } => in_template_root(path),
        _ => false,
    });
    if writes_root {
        return Ok(None);
    }
    mount_proc(&mut b)?;
    Ok(Some(b.plan))
}

/// The default tree of a sandbox, built once in a mount namespace of its own (see the module's
/// documentation). Dropping it releases the namespace (boxes keep their copies).
#[derive(Debug)]
pub struct Template {
    ns: OwnedFd,
    /// What the template's root holds: per-box mounts go on these or below them.
    top: BTreeSet<PathBuf>,
    /// Destinations of the default mounts.
    defaults: Vec<PathBuf>,
}

impl Template {
    /// Builds the template from `tree`, in a thread of its own (which leaves the process's
    /// mount namespace and is gone when this returns).
    pub fn build(tree: &DefaultTree) -> Result<Template, MountError> {
        let mut b = Builder::new(NEW_ROOT);
        start_root(&mut b)?;
        let mut top: BTreeSet<PathBuf> = BTreeSet::new();
        for (dest, src, kind) in &tree.entries {
            add_entry(&mut b, dest, &Entry::Host(src, kind), &TreeSettings::none())?;
            top.insert(dest.clone());
        }
        // Mount points of the per-box mounts.
        for d in ["/tmp", crate::spec::DEFAULT_WORKDIR, "/proc"] {
            b.mkdirs(Path::new(d), true)?;
            top.insert(PathBuf::from(d));
        }
        top.insert(PathBuf::from("/dev"));
        finish_root(&mut b, tree)?;
        let defaults = tree.entries.iter().map(|(d, _, _)| d.clone()).collect();
        let (ops, descriptions, trees) = b.plan.split();
        let built = std::thread::scope(|sc| {
            sc.spawn(|| build_template_namespace(&ops)).join().unwrap_or(Err((usize::MAX, libc::EIO)))
        });
        drop(trees);
        match built {
            Ok(ns) => Ok(Template { ns, top, defaults }),
            Err((step, errno)) => Err(MountError::Template {
                step: descriptions.get(step).cloned().unwrap_or_else(|| "enter a new mount namespace".into()),
                source: io::Error::from_raw_os_error(errno),
            }),
        }
    }
}

/// In the calling thread: a new mount namespace, the steps, and a descriptor of the namespace.
/// Fails with the index of the step (`usize::MAX` before the first) and the errno.
fn build_template_namespace(ops: &[Op]) -> Result<OwnedFd, (usize, i32)> {
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
    Ok(ns)
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
        let one = etc_snapshot::prepare(root.path(), &[f.clone()]).unwrap();
        assert_eq!(fs::read_to_string(one.join("passwd")).unwrap(), "a\n");
        fs::write(&f, "bb\n").unwrap();
        let two = etc_snapshot::prepare(root.path(), &[f]).unwrap();
        assert_ne!(one, two);
        assert_eq!(fs::read_to_string(two.join("passwd")).unwrap(), "bb\n");
    }
}
