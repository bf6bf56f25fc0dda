//! Network namespaces for the boxes: each run gets a fresh one with only `lo`, up; and a fresh
//! IPC namespace with it.
//!
//! Creating a network namespace is the most expensive part of starting a box (~0.3 ms here,
//! more than every other namespace together), so a background thread creates them ahead of
//! demand: it `unshare`s a new one into itself, brings `lo` up, opens a descriptor on it and
//! hands it over through a bounded channel. An IPC namespace (~20 µs: its own mqueue mount and
//! sysctl tables) comes from the same `unshare`. Each namespace serves exactly one run: the
//! box's init enters it with `setns`, and it dies with the box.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("create a network and IPC namespace: {0}")]
    Create(io::Error),
    #[error("bring up lo in a new network namespace: {0}")]
    Loopback(io::Error),
    #[error("open the new network or IPC namespace: {0}")]
    Open(io::Error),
    #[error("the network namespace factory thread is gone")]
    Gone,
}

/// Namespaces made ahead of demand.
const READY: usize = 2;
/// How long a run that finds no namespace ready polls for one before it sleeps.
const SPIN: Duration = Duration::from_millis(1);

/// A fresh network namespace (lo up) and a fresh IPC namespace, for one box.
#[derive(Debug)]
pub struct BoxNamespaces {
    pub net: OwnedFd,
    pub ipc: OwnedFd,
}

/// A supply of fresh network (and IPC) namespaces.
#[derive(Debug)]
pub struct NetnsPool {
    rx: Mutex<Receiver<Result<BoxNamespaces, NetnsError>>>,
}

impl NetnsPool {
    /// Starts the factory thread; the first namespace is being made when this returns.
    /// With `limit`, the factory stops after that many (a process that will run one box
    /// should not pay for namespaces it never uses).
    pub fn start(limit: Option<usize>) -> io::Result<Self> {
        let (tx, rx) = sync_channel(READY);
        std::thread::Builder::new().name("judge-netns".into()).spawn(move || {
            let mut made = 0usize;
            while limit.is_none_or(|l| made < l) {
                let ns = make();
                made += 1;
                let failed = ns.is_err();
                // The receiver is gone when the sandbox is dropped: stop then.
                if tx.send(ns).is_err() || failed {
                    return;
                }
            }
        })?;
        Ok(NetnsPool { rx: Mutex::new(rx) })
    }

    /// A fresh namespace, waiting for the factory if none is ready; made here if the factory
    /// has stopped (its limit was reached).
    pub fn take(&self) -> Result<BoxNamespaces, NetnsError> {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        // Poll (yielding the CPU) for a moment before sleeping: a namespace that is almost made
        // then needs no wakeup of this thread, which costs hundreds of microseconds when its CPU
        // has gone idle on a VM (a one-run sandbox always waits for its first namespace). One
        // thread at most polls: the others wait for the lock.
        let start = Instant::now();
        while start.elapsed() < SPIN {
            match rx.try_recv() {
                Ok(ns) => return ns,
                Err(TryRecvError::Empty) => std::thread::yield_now(),
                Err(TryRecvError::Disconnected) => break,
            }
        }
        match rx.recv() {
            Ok(ns) => ns,
            Err(_) => std::thread::scope(|s| s.spawn(make).join()).unwrap_or(Err(NetnsError::Gone)),
        }
    }
}

/// Makes one pair in the calling thread (which stays in them).
fn make() -> Result<BoxNamespaces, NetnsError> {
    // SAFETY: unshare(2) of the network and IPC namespaces affects only this thread.
    if unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWIPC) } < 0 {
        return Err(NetnsError::Create(io::Error::last_os_error()));
    }
    // SAFETY: loopback_up only issues socket/ioctl/close syscalls.
    unsafe { loopback_up() }.map_err(|e| NetnsError::Loopback(io::Error::from_raw_os_error(e)))?;
    let open = |p: &str| File::open(p).map(OwnedFd::from).map_err(NetnsError::Open);
    Ok(BoxNamespaces { net: open("/proc/thread-self/ns/net")?, ipc: open("/proc/thread-self/ns/ipc")? })
}

/// Brings up `lo` in the calling thread's network namespace.
///
/// # Safety
/// Only issues socket, ioctl and close syscalls on its own descriptor.
unsafe fn loopback_up() -> Result<(), i32> {
    let errno = || io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
    let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    if sock < 0 {
        return Err(errno());
    }
    let mut req: libc::ifreq = std::mem::zeroed();
    req.ifr_name[0] = b'l' as libc::c_char;
    req.ifr_name[1] = b'o' as libc::c_char;
    let mut rc = libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req);
    if rc == 0 {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        rc = libc::ioctl(sock, libc::SIOCSIFFLAGS, &req);
    }
    let err = errno();
    libc::close(sock);
    if rc < 0 {
        Err(err)
    } else {
        Ok(())
    }
}
