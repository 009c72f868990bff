//! Event bodies: the JSON the API returns for each event, kept outside tantivy in one
//! append-only file per source (`events/<source id>.ev` beside the index), and addressed by
//! the byte offset each document carries in its `pos` fast field.
//!
//! A file is a header ([`MAGIC`]) and then one record per event: the body's length (u32,
//! little-endian) and the body. It is written sequentially while the source is ingested,
//! made durable before the index commit that makes its events visible, and never changed
//! afterwards; a source that is rolled back or deleted loses its file. Readers map committed
//! files into memory, so fetching a page of hits is a slice copy per hit: no decompression,
//! no block cache, and no doc-store work at ingest.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tantivy::directory::{Directory, MmapDirectory, OwnedBytes};
use uuid::Uuid;

use super::IndexError;

/// The first bytes of every body file (the layout's version).
pub(crate) const MAGIC: &[u8; 8] = b"CTEVB1\n\0";

/// Write buffer of a body file.
const BUFFER: usize = 1 << 20;

/// The file of a source's bodies inside the events directory.
pub(crate) fn file_name(source: Uuid) -> String {
    format!("{source}.ev")
}

/// Appends one source's bodies; the file is removed unless [`BodyWriter::finish`] ran.
pub(crate) struct BodyWriter {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    len: u64,
}

impl BodyWriter {
    /// Creates (truncating) the file of `source` in `dir`.
    pub(crate) fn create(dir: &Path, source: Uuid) -> Result<BodyWriter, IndexError> {
        let path = dir.join(file_name(source));
        let mut out = BufWriter::with_capacity(BUFFER, File::create(&path)?);
        out.write_all(MAGIC)?;
        Ok(BodyWriter {
            path,
            out: Some(out),
            len: MAGIC.len() as u64,
        })
    }

    /// Appends one body; returns its offset (the document's `pos`).
    pub(crate) fn append(&mut self, body: &[u8]) -> Result<u64, IndexError> {
        let n = u32::try_from(body.len())
            .map_err(|_| IndexError::invalid("body", "an event is larger than 4 GiB once rendered"))?;
        let out = self.out.as_mut().ok_or_else(|| closed(&self.path))?;
        out.write_all(&n.to_le_bytes())?;
        out.write_all(body)?;
        let pos = self.len;
        self.len += 4 + u64::from(n);
        Ok(pos)
    }

    /// Flushes the file and makes it durable (file and directory entry).
    pub(crate) fn finish(&mut self) -> Result<(), IndexError> {
        let out = self.out.take().ok_or_else(|| closed(&self.path))?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Removes the file (a rolled-back source).
    pub(crate) fn discard(&mut self) {
        self.out = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

fn closed(path: &Path) -> IndexError {
    IndexError::Io(std::io::Error::other(format!("{} is already closed", path.display())))
}

/// The events directory of an index, for reading committed body files.
pub(crate) struct BodyDir {
    path: PathBuf,
    mmap: MmapDirectory,
}

impl std::fmt::Debug for BodyDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyDir").field("path", &self.path).finish()
    }
}

impl BodyDir {
    pub(crate) fn open(path: PathBuf) -> Result<BodyDir, IndexError> {
        super::create_private_dir(&path)?;
        let mmap = MmapDirectory::open(&path).map_err(|e| IndexError::Io(std::io::Error::other(e.to_string())))?;
        Ok(BodyDir { path, mmap })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Maps a committed source's file.
    pub(crate) fn map(&self, source: Uuid) -> Result<Bodies, IndexError> {
        let name = file_name(source);
        let slice = self
            .mmap
            .open_read(Path::new(&name))
            .map_err(|e| IndexError::Io(std::io::Error::other(e.to_string())))?;
        let bytes = slice.read_bytes()?;
        if !bytes.as_slice().starts_with(MAGIC) {
            return Err(IndexError::Io(std::io::Error::other(format!(
                "{name} is not an event body file"
            ))));
        }
        Ok(Bodies(bytes))
    }

    /// Removes the files of sources that are not `kept` (rolled back, deleted, or left by a
    /// crash before their commit). Only called while the incident's writer lock is held.
    pub(crate) fn remove_except(&self, kept: &[Uuid]) -> Result<(), IndexError> {
        let keep: Vec<String> = kept.iter().map(|id| file_name(*id)).collect();
        for entry in std::fs::read_dir(&self.path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".ev") && !keep.contains(&name) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

/// One committed source's bodies, mapped.
#[derive(Clone)]
pub(crate) struct Bodies(OwnedBytes);

impl Bodies {
    /// The body at `pos`.
    pub(crate) fn get(&self, pos: u64) -> Option<&[u8]> {
        let b = self.0.as_slice();
        let pos = usize::try_from(pos).ok()?;
        let len = b.get(pos..pos.checked_add(4)?)?;
        let n = u32::from_le_bytes(len.try_into().ok()?) as usize;
        b.get(pos + 4..(pos + 4).checked_add(n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_and_rolled_back_files_vanish() {
        let dir = std::env::temp_dir().join(format!("cordon-bodies-{}", Uuid::new_v4()));
        let bd = BodyDir::open(dir.clone()).unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut w = BodyWriter::create(bd.path(), a).unwrap();
        let p1 = w.append(br#"{"x":1}"#).unwrap();
        let p2 = w.append(b"").unwrap();
        let p3 = w.append(br#"{"y":"two"}"#).unwrap();
        w.finish().unwrap();
        let mut rolled = BodyWriter::create(bd.path(), b).unwrap();
        rolled.append(b"gone").unwrap();
        rolled.discard();
        assert!(!bd.path().join(file_name(b)).exists());

        let m = bd.map(a).unwrap();
        assert_eq!(m.get(p1), Some(&br#"{"x":1}"#[..]));
        assert_eq!(m.get(p2), Some(&b""[..]));
        assert_eq!(m.get(p3), Some(&br#"{"y":"two"}"#[..]));
        assert_eq!(m.get(p3 + 1), None, "a position inside a body is not a body");
        assert_eq!(m.get(u64::MAX), None);

        std::fs::write(bd.path().join(file_name(b)), b"left by a crash").unwrap();
        bd.remove_except(&[a]).unwrap();
        assert!(!bd.path().join(file_name(b)).exists());
        assert!(bd.map(b).is_err());
        assert_eq!(bd.map(a).unwrap().get(p1), Some(&br#"{"x":1}"#[..]));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
