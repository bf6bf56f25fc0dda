//! Box slots: each live box holds one slot, which gives it its uid/gid and its cgroup name.
//! A slot is an exclusive `flock` on `<state_dir>/slots/<n>`: held across processes, released by
//! the kernel when the holder dies, so a slot whose lock can be taken has no live box and
//! whatever it left behind may be swept.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error("create the slot directory {path}: {source}")]
    Dir { path: PathBuf, source: io::Error },
    #[error("open slot lock {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("all {count} box slots under {dir} are in use")]
    Exhausted { dir: PathBuf, count: u32 },
}

/// The slots of this host.
#[derive(Debug)]
pub struct SlotPool {
    dir: PathBuf,
    count: u32,
    next: AtomicU32,
}

/// A held slot. Dropping it releases the lock.
#[derive(Debug)]
pub struct Slot {
    pub index: u32,
    _lock: File,
}

impl SlotPool {
    pub fn new(state_dir: &Path, count: u32) -> Result<Self, SlotError> {
        let dir = state_dir.join("slots");
        fs::create_dir_all(&dir).map_err(|source| SlotError::Dir { path: dir.clone(), source })?;
        // Different processes start their search at different places to avoid contention.
        let start = std::process::id().wrapping_mul(2654435761) % count.max(1);
        Ok(SlotPool { dir, count, next: AtomicU32::new(start) })
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// Takes a free slot.
    pub fn acquire(&self) -> Result<Slot, SlotError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.count {
            let index = start.wrapping_add(i) % self.count;
            if let Some(slot) = self.try_acquire(index)? {
                return Ok(slot);
            }
        }
        Err(SlotError::Exhausted { dir: self.dir.clone(), count: self.count })
    }

    /// Takes slot `index` if nobody holds it.
    pub fn try_acquire(&self, index: u32) -> Result<Option<Slot>, SlotError> {
        let path = self.dir.join(index.to_string());
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| SlotError::Open { path: path.clone(), source })?;
        // SAFETY: flock(2) on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            Ok(Some(Slot { index, _lock: file }))
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let pool = SlotPool::new(dir.path(), 3).unwrap();
        let a = pool.acquire().unwrap();
        let b = pool.acquire().unwrap();
        let c = pool.acquire().unwrap();
        let mut idx = vec![a.index, b.index, c.index];
        idx.sort();
        assert_eq!(idx, vec![0, 1, 2]);
        assert!(matches!(pool.acquire(), Err(SlotError::Exhausted { count: 3, .. })));
        assert!(pool.try_acquire(b.index).unwrap().is_none());
        let freed = b.index;
        drop(b);
        assert_eq!(pool.acquire().unwrap().index, freed);
    }

    #[test]
    fn a_second_pool_sees_the_first_pools_locks() {
        let dir = tempfile::tempdir().unwrap();
        let p1 = SlotPool::new(dir.path(), 1).unwrap();
        let p2 = SlotPool::new(dir.path(), 1).unwrap();
        let held = p1.acquire().unwrap();
        assert!(p2.acquire().is_err());
        drop(held);
        assert!(p2.acquire().is_ok());
    }
}
