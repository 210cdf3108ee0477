//! `OUT/crampscan.lock`: one run at a time writes into an output folder.
//! The lock holds the process id of its run; a lock whose process is gone
//! (a run killed with `kill -9`) is stale and taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use crate::export::layout::LOCK_FILE;

/// A held lock on an output folder, removed when dropped (the run ended,
/// returned an error or panicked).
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

impl OutputLock {
    /// Takes the lock on `out_dir`, or refuses naming the run that holds
    /// it. A lock left by a process that no longer runs is replaced.
    pub fn acquire(out_dir: &Path) -> Result<OutputLock> {
        let path = crate::export::Layout::new(out_dir).lock_file();
        // Twice: the second time after removing a stale lock.
        for _ in 0..2 {
            match create(&path) {
                Ok(()) => return Ok(OutputLock { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::output(&path, e)),
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            match text.trim().parse::<u32>() {
                Ok(pid) if pid == std::process::id() || alive(pid) => {
                    return Err(Error::Config(format!(
                        "{} is in use by another crampscan run (process {pid}); wait for it to finish, or write to another folder (delete {} only if no such run is going)",
                        out_dir.display(),
                        path.display()
                    )));
                }
                // Stale (its process is gone) or unreadable (a run killed
                // while writing it).
                _ => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        Err(Error::Config(format!(
            "{}: could not take the lock (another run keeps taking it)",
            path.display()
        )))
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Creates the lock file, failing if it exists, and writes this process id.
fn create(path: &Path) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    writeln!(f, "{}", std::process::id())
}

/// Whether process `pid` runs: `/proc/<pid>` on Linux. Elsewhere a lock is
/// taken to be held (the message says how to remove it).
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_and_a_stale_one_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(dir.path()).unwrap();
        let e = OutputLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(e.contains("in use by another crampscan run"), "{e}");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        // A pid above Linux's pid_max (2^22) cannot be running.
        std::fs::write(dir.path().join(LOCK_FILE), "99999999\n").unwrap();
        let _lock = OutputLock::acquire(dir.path()).unwrap();
        let pid = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
    }
}
