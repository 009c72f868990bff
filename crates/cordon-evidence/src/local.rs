//! [`LocalBlobStore`]: the write-once, content-addressed [`BlobStore`] on a local
//! filesystem.
//!
//! Layout under the root directory:
//!
//! ```text
//! objects/ab/ab12…(64 hex)   stored blobs, mode 0444, fanned out by the first two hex digits
//! incoming/<pid>-<n>.partial uploads in progress (and leftovers of crashed ones)
//! ```
//!
//! Finishing an upload: fsync the temporary file, chmod it 0444, hard-link it to its final
//! name (`link` fails if the name exists, so nothing is ever replaced, and a second copy of
//! the same bytes is simply dropped), fsync the fan-out directory, unlink the temporary
//! name. A blob is thus visible only complete, durable and read-only. `incoming/` and
//! `objects/` must be on the same filesystem, one that supports hard links (ext4, XFS,
//! btrfs, ZFS…).
//!
//! One process owns a store directory: `cleanup_leftovers` treats every temporary file
//! not opened by this store value as a leftover.
//!
//! While an upload runs, a background `fdatasync` is started every
//! [`LocalBlobStore::DEFAULT_WRITEBACK_INTERVAL`] bytes so the disk works during the upload
//! instead of all at the final fsync.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::task::{JoinHandle, spawn_blocking};

use crate::error::{EvidenceError, Result};
use crate::key::{BlobKey, ByteRange};
use crate::store::{
    BlobMeta, BlobReader, BlobStore, BlobUpload, CleanupReport, ContentDigests, StoredBlob, UploadHint,
};

const OBJECTS_DIR: &str = "objects";
const INCOMING_DIR: &str = "incoming";
const PARTIAL_SUFFIX: &str = ".partial";

/// A content-addressed, write-once blob store in a local directory. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LocalBlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    objects: PathBuf,
    incoming: PathBuf,
    writeback_interval: Option<u64>,
    next_temp: AtomicU64,
    /// Temporary files of uploads in progress on this store value; `cleanup_leftovers`
    /// leaves them alone.
    active: Mutex<HashSet<PathBuf>>,
}

impl LocalBlobStore {
    /// Start a background fdatasync after this many bytes (64 MiB).
    pub const DEFAULT_WRITEBACK_INTERVAL: u64 = 64 << 20;

    /// Opens (creating if needed) a store rooted at `root`. Does not clean leftovers:
    /// call [`BlobStore::cleanup_leftovers`] once at start.
    pub async fn new(root: impl Into<PathBuf>) -> Result<Self> {
        Self::with_writeback_interval(root, Some(Self::DEFAULT_WRITEBACK_INTERVAL)).await
    }

    /// Like [`LocalBlobStore::new`], choosing the early write-back interval (`None`: only
    /// the final fsync).
    pub async fn with_writeback_interval(root: impl Into<PathBuf>, writeback_interval: Option<u64>) -> Result<Self> {
        let root = root.into();
        let objects = root.join(OBJECTS_DIR);
        let incoming = root.join(INCOMING_DIR);
        for dir in [&objects, &incoming] {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(EvidenceError::io("creating the store directories"))?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                root,
                objects,
                incoming,
                writeback_interval: writeback_interval.filter(|&n| n > 0),
                next_temp: AtomicU64::new(0),
                active: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Where uploads in progress live.
    pub fn incoming_dir(&self) -> &Path {
        &self.inner.incoming
    }

    /// Where the blob with `key` is (or would be) stored.
    pub fn object_path(&self, key: &BlobKey) -> PathBuf {
        self.inner.object_path(key)
    }
}

impl Inner {
    fn fanout_dir(&self, key: &BlobKey) -> PathBuf {
        self.objects.join(&key.to_hex()[..2])
    }

    fn object_path(&self, key: &BlobKey) -> PathBuf {
        self.fanout_dir(key).join(key.to_hex())
    }

    fn forget(&self, temp: &Path) {
        self.active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(temp);
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn begin(&self, _hint: &UploadHint) -> Result<Box<dyn BlobUpload>> {
        let inner = Arc::clone(&self.inner);
        let upload = spawn_blocking(move || -> Result<LocalUpload> {
            loop {
                let n = inner.next_temp.fetch_add(1, Ordering::Relaxed);
                let name = format!("{}-{n}{PARTIAL_SUFFIX}", std::process::id());
                let path = inner.incoming.join(name);
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(&path) {
                    Ok(file) => {
                        inner
                            .active
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .insert(path.clone());
                        return Ok(LocalUpload {
                            inner,
                            temp: path,
                            file: Arc::new(file),
                            written: 0,
                            since_writeback: 0,
                            writeback: None,
                            poisoned: false,
                            settled: false,
                        });
                    }
                    // A leftover from an earlier process with the same pid: take the next name.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(EvidenceError::io("creating a temporary file")(e)),
                }
            }
        })
        .await
        .map_err(EvidenceError::worker_failed)??;
        tracing::debug!(temp = %upload.temp.display(), "evidence upload started");
        Ok(Box::new(upload))
    }

    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobReader> {
        let path = self.inner.object_path(key);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(EvidenceError::NotFound { key: *key });
            }
            Err(e) => return Err(EvidenceError::io("opening a stored blob")(e)),
        };
        let size = file
            .metadata()
            .await
            .map_err(EvidenceError::io("reading a stored blob's size"))?
            .len();
        let range = range.unwrap_or(ByteRange::full(size)).within(size)?;
        if range.start() > 0 {
            file.seek(io::SeekFrom::Start(range.start()))
                .await
                .map_err(EvidenceError::io("seeking in a stored blob"))?;
        }
        Ok(BlobReader::new(range, size, Box::pin(file.take(range.len()))))
    }

    async fn stat(&self, key: &BlobKey) -> Result<Option<BlobMeta>> {
        match tokio::fs::metadata(self.inner.object_path(key)).await {
            Ok(meta) => Ok(Some(BlobMeta {
                size: meta.len(),
                write_protected: is_write_protected(&meta),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(EvidenceError::io("reading a stored blob's metadata")(e)),
        }
    }

    async fn list(&self) -> Result<Vec<BlobKey>> {
        let objects = self.inner.objects.clone();
        spawn_blocking(move || -> Result<Vec<BlobKey>> {
            let op = "listing stored blobs";
            let mut keys = Vec::new();
            for dir in fs::read_dir(&objects).map_err(EvidenceError::io(op))? {
                let dir = dir.map_err(EvidenceError::io(op))?;
                if !dir.file_type().map_err(EvidenceError::io(op))?.is_dir() {
                    continue;
                }
                let prefix = dir.file_name();
                for entry in fs::read_dir(dir.path()).map_err(EvidenceError::io(op))? {
                    let entry = entry.map_err(EvidenceError::io(op))?;
                    let name = entry.file_name();
                    let parsed = name.to_str().and_then(|n| n.parse::<BlobKey>().ok());
                    match parsed {
                        Some(key) if key.to_hex()[..2] == *prefix => keys.push(key),
                        _ => tracing::warn!(path = %entry.path().display(), "unexpected entry in the evidence store"),
                    }
                }
            }
            keys.sort();
            Ok(keys)
        })
        .await
        .map_err(EvidenceError::worker_failed)?
    }

    async fn cleanup_leftovers(&self) -> Result<CleanupReport> {
        let inner = Arc::clone(&self.inner);
        let report = spawn_blocking(move || -> Result<CleanupReport> {
            let op = "removing leftover uploads";
            let active = inner
                .active
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone();
            let mut report = CleanupReport::default();
            for entry in fs::read_dir(&inner.incoming).map_err(EvidenceError::io(op))? {
                let entry = entry.map_err(EvidenceError::io(op))?;
                let path = entry.path();
                if active.contains(&path) {
                    continue;
                }
                let meta = entry.metadata().map_err(EvidenceError::io(op))?;
                if !meta.is_file() {
                    tracing::warn!(path = %path.display(), "unexpected non-file in the incoming directory");
                    continue;
                }
                match fs::remove_file(&path) {
                    Ok(()) => {
                        report.removed += 1;
                        report.bytes += meta.len();
                        tracing::info!(path = %path.display(), bytes = meta.len(), "removed a leftover upload");
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(EvidenceError::io(op)(e)),
                }
            }
            Ok(report)
        })
        .await
        .map_err(EvidenceError::worker_failed)??;
        Ok(report)
    }
}

/// An upload into `incoming/`, see the module documentation.
#[derive(Debug)]
struct LocalUpload {
    inner: Arc<Inner>,
    temp: PathBuf,
    /// Shared with the blocking write and write-back tasks (`&File` implements `Write`).
    file: Arc<File>,
    written: u64,
    since_writeback: u64,
    writeback: Option<JoinHandle<io::Result<()>>>,
    /// A write failed part-way: the file no longer matches `written`, so the upload can
    /// only be aborted.
    poisoned: bool,
    /// Finished or aborted: `Drop` has nothing to clean.
    settled: bool,
}

impl LocalUpload {
    /// Starts a background `fdatasync` unless one is still running; reports the previous
    /// one's failure (a failed fsync means the data on disk cannot be trusted).
    async fn maybe_start_writeback(&mut self) -> Result<()> {
        let Some(interval) = self.inner.writeback_interval else {
            return Ok(());
        };
        if self.since_writeback < interval {
            return Ok(());
        }
        if let Some(running) = &self.writeback {
            if !running.is_finished() {
                return Ok(());
            }
            self.await_writeback().await?;
        }
        self.since_writeback = 0;
        let file = Arc::clone(&self.file);
        self.writeback = Some(spawn_blocking(move || file.sync_data()));
        Ok(())
    }

    fn check_usable(&self) -> Result<()> {
        if self.poisoned {
            return Err(EvidenceError::Internal(
                "upload used after a failed write; it can only be aborted".into(),
            ));
        }
        Ok(())
    }

    async fn await_writeback(&mut self) -> Result<()> {
        if let Some(running) = self.writeback.take() {
            // After a failed fsync the page cache may have dropped the data: poison.
            self.poisoned = true;
            running
                .await
                .map_err(EvidenceError::worker_failed)?
                .map_err(EvidenceError::io("flushing an upload to disk"))?;
            self.poisoned = false;
        }
        Ok(())
    }
}

#[async_trait]
impl BlobUpload for LocalUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.check_usable()?;
        let len = chunk.len() as u64;
        let file = Arc::clone(&self.file);
        self.poisoned = true;
        spawn_blocking(move || (&*file).write_all(&chunk))
            .await
            .map_err(EvidenceError::worker_failed)?
            .map_err(EvidenceError::io("writing an upload to its temporary file"))?;
        self.poisoned = false;
        self.written += len;
        self.since_writeback += len;
        self.maybe_start_writeback().await
    }

    async fn finish(mut self: Box<Self>, digests: &ContentDigests) -> Result<StoredBlob> {
        self.check_usable()?;
        if digests.size != self.written {
            return Err(EvidenceError::Internal(format!(
                "finish was given a size of {} but {} bytes were written",
                digests.size, self.written
            )));
        }
        self.await_writeback().await?;
        let key = BlobKey::from_sha256(digests.sha256);
        let inner = Arc::clone(&self.inner);
        let file = Arc::clone(&self.file);
        let temp = self.temp.clone();
        let size = self.written;
        let newly_stored = spawn_blocking(move || seal(&inner, &file, &temp, &key, size))
            .await
            .map_err(EvidenceError::worker_failed)??;
        // The temporary name is gone (or a harmless extra link to a sealed blob, which the
        // next cleanup removes): nothing left to undo.
        self.settled = true;
        self.inner.forget(&self.temp);
        tracing::debug!(%key, size, newly_stored, "evidence blob sealed");
        Ok(StoredBlob { key, newly_stored })
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.settled = true;
        self.inner.forget(&self.temp);
        match tokio::fs::remove_file(&self.temp).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(EvidenceError::io("removing an aborted upload")(e)),
        }
    }
}

impl Drop for LocalUpload {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Dropped mid-upload (e.g. the request future was cancelled). Unlinking is quick;
        // a write still running in a blocking task finishes on the unlinked file.
        if let Err(e) = fs::remove_file(&self.temp)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(temp = %self.temp.display(), error = %e, "could not remove a dropped upload; cleanup_leftovers will");
        }
        self.inner.forget(&self.temp);
    }
}

/// Makes the temporary file durable and read-only, and links it under its key.
/// Returns whether this call stored the blob (`false`: the key already existed).
fn seal(inner: &Inner, file: &File, temp: &Path, key: &BlobKey, size: u64) -> Result<bool> {
    let on_disk = file
        .metadata()
        .map_err(EvidenceError::io("checking an upload's size"))?
        .len();
    if on_disk != size {
        return Err(EvidenceError::Internal(format!(
            "temporary file holds {on_disk} bytes, {size} expected"
        )));
    }
    make_read_only(file).map_err(EvidenceError::io("write-protecting an upload"))?;
    file.sync_all()
        .map_err(EvidenceError::io("syncing an upload to disk"))?;

    let fanout = inner.fanout_dir(key);
    match fs::create_dir(&fanout) {
        Ok(()) => sync_dir(&inner.objects).map_err(EvidenceError::io("syncing the objects directory"))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(EvidenceError::io("creating a fan-out directory")(e)),
    }

    let target = inner.object_path(key);
    let newly_stored = match fs::hard_link(temp, &target) {
        Ok(()) => {
            sync_dir(&fanout).map_err(EvidenceError::io("syncing a fan-out directory"))?;
            true
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let stored_size = fs::metadata(&target)
                .map_err(EvidenceError::io("checking an already stored blob"))?
                .len();
            if stored_size != size {
                tracing::error!(%key, stored_size, size, "stored blob differs from new upload of the same digest");
                // Leave `temp` to the caller's drop: it removes it.
                return Err(EvidenceError::StoredCopyDiffers {
                    key: *key,
                    stored_size,
                    new_size: size,
                });
            }
            false
        }
        Err(e) => return Err(EvidenceError::io("linking an upload into place")(e)),
    };

    if let Err(e) = fs::remove_file(temp) {
        tracing::warn!(temp = %temp.display(), error = %e, "could not remove a sealed upload's temporary name");
    }
    Ok(newly_stored)
}

#[cfg(unix)]
fn make_read_only(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o444))
}

#[cfg(not(unix))]
fn make_read_only(file: &File) -> io::Result<()> {
    let mut perms = file.metadata()?.permissions();
    perms.set_readonly(true);
    file.set_permissions(perms)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn is_write_protected(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o222 == 0
}

#[cfg(not(unix))]
fn is_write_protected(meta: &fs::Metadata) -> bool {
    meta.permissions().readonly()
}
