//! Event bodies: each event's stored record ([`super::record`]), kept outside tantivy in
//! one append-only file per source (`events/<source id>.ev` beside the index), and addressed
//! by the byte offset each document carries in its `pos` fast field.
//!
//! A file is a header ([`MAGIC`], then the source's name as a varint length and its bytes)
//! and then one record per event: the record's length (u32, little-endian) and the record.
//! It is written sequentially while the source is ingested, made durable before the index
//! commit that makes its events visible, and never changed afterwards; a source that is
//! rolled back or deleted loses its file. Readers map committed files into memory, so
//! fetching a page of hits is one record decoded and rendered as JSON per hit: no block
//! decompression, no block cache, and no doc-store work at ingest. Files of the first
//! layout ([`MAGIC_JSON`], the event JSON itself as the record) are still read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::{Directory, MmapDirectory, OwnedBytes};
use uuid::Uuid;

use super::IndexError;
use super::record;
use crate::event::Event;

/// The first bytes of every body file (the layout's version).
pub(crate) const MAGIC: &[u8; 8] = b"CTEVB2\n\0";
/// The first layout, whose records are the event JSON.
pub(crate) const MAGIC_JSON: &[u8; 8] = b"CTEVB1\n\0";

/// Write buffer of a body file.
const BUFFER: usize = 1 << 20;

/// The file of a source's bodies inside the events directory.
pub(crate) fn file_name(source: Uuid) -> String {
    format!("{source}.ev")
}

/// Appends one source's records; the file is removed unless [`BodyWriter::finish`] ran.
pub(crate) struct BodyWriter {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    len: u64,
    /// The source name of the header, written with the first record.
    name: Option<Arc<str>>,
    record: Vec<u8>,
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
            name: None,
            record: Vec::with_capacity(1024),
        })
    }

    /// Writes the header's source name (once, before the first record).
    fn header(&mut self, name: &Arc<str>) -> Result<(), IndexError> {
        let out = self.out.as_mut().ok_or_else(|| closed(&self.path))?;
        let mut head = Vec::with_capacity(name.len() + 10);
        record::put_uint(&mut head, name.len() as u64);
        head.extend_from_slice(name.as_bytes());
        out.write_all(&head)?;
        self.len += head.len() as u64;
        self.name = Some(name.clone());
        Ok(())
    }

    /// Appends the record of `e` (`ips` is [`Event::ips`], `in_msg` looks up its text fields
    /// in its message); returns its offset (the document's `pos`).
    pub(crate) fn append(
        &mut self,
        e: &Event,
        ips: &[IpAddr],
        in_msg: &mut crate::scan::InMessage<'_, '_>,
    ) -> Result<u64, IndexError> {
        if self.name.is_none() {
            self.header(&e.source)?;
        }
        let name = self.name.as_deref().unwrap_or_default();
        self.record.clear();
        record::encode(&mut self.record, e, name, ips, in_msg);
        let n = u32::try_from(self.record.len())
            .map_err(|_| IndexError::invalid("body", "an event is larger than 4 GiB once stored"))?;
        let out = self.out.as_mut().ok_or_else(|| closed(&self.path))?;
        out.write_all(&n.to_le_bytes())?;
        out.write_all(&self.record)?;
        let pos = self.len;
        self.len += 4 + u64::from(n);
        Ok(pos)
    }

    /// Bytes written so far (buffered included).
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Flushes the file and makes it durable (file and directory entry).
    pub(crate) fn finish(&mut self) -> Result<(), IndexError> {
        if self.name.is_none() {
            self.header(&Arc::from(""))?;
        }
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
        let not_ours = || IndexError::Io(std::io::Error::other(format!("{name} is not an event body file")));
        let b = bytes.as_slice();
        let layout = if b.starts_with(MAGIC) {
            let mut at = MAGIC.len();
            let n = record::get_uint(b, &mut at).ok_or_else(not_ours)?;
            let end = usize::try_from(n)
                .ok()
                .and_then(|n| at.checked_add(n))
                .ok_or_else(not_ours)?;
            let header_source = b
                .get(at..end)
                .and_then(|s| std::str::from_utf8(s).ok())
                .ok_or_else(not_ours)?;
            Layout::Records {
                source: Arc::from(header_source),
            }
        } else if b.starts_with(MAGIC_JSON) {
            Layout::Json
        } else {
            return Err(not_ours());
        };
        Ok(Bodies {
            bytes,
            layout,
            source,
            source_id: Arc::from(source.to_string()),
        })
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
pub(crate) struct Bodies {
    bytes: OwnedBytes,
    layout: Layout,
    source: Uuid,
    source_id: Arc<str>,
}

#[derive(Clone)]
enum Layout {
    /// Records ([`record`]) of a file whose header names `source`.
    Records { source: Arc<str> },
    /// The event JSON itself (the first layout).
    Json,
}

impl Bodies {
    /// The source whose events these are.
    pub(crate) fn source(&self) -> Uuid {
        self.source
    }

    /// The stored bytes at `pos`.
    fn get(&self, pos: u64) -> Option<&[u8]> {
        let b = self.bytes.as_slice();
        let pos = usize::try_from(pos).ok()?;
        let len = b.get(pos..pos.checked_add(4)?)?;
        let n = u32::from_le_bytes(len.try_into().ok()?) as usize;
        b.get(pos + 4..(pos + 4).checked_add(n)?)
    }

    /// Appends the JSON of the event at `pos` to `out` (see [`super::json`]); `false` when
    /// there is no intact event there.
    pub(crate) fn render(&self, pos: u64, out: &mut Vec<u8>) -> bool {
        let Some(stored) = self.get(pos) else {
            return false;
        };
        match &self.layout {
            Layout::Json => out.extend_from_slice(stored),
            Layout::Records { source } => match record::decode(stored, source) {
                Ok(view) => super::json::write_event(out, &self.source_id, &view),
                Err(record::Corrupt) => return false,
            },
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Provenance;
    use crate::{EventKind, Format};

    fn event(line: u64, message: &str) -> Event {
        let mut e = Event::new(
            jiff::Timestamp::from_second(1_700_000_000 + line as i64).unwrap(),
            "t".into(),
            EventKind::Other,
            Format::Text,
            Arc::from("x.log"),
            Provenance {
                line,
                ..Provenance::default()
            },
        );
        e.message = message.into();
        e
    }

    fn append(w: &mut BodyWriter, e: &Event, ips: &[IpAddr]) -> u64 {
        let mut memo = Vec::new();
        let mut m = crate::scan::InMessage::new(&e.message, &mut memo);
        w.append(e, ips, &mut m).unwrap()
    }

    fn render(b: &Bodies, pos: u64) -> Option<serde_json::Value> {
        let mut out = Vec::new();
        b.render(pos, &mut out)
            .then(|| serde_json::from_slice(&out).expect("JSON"))
    }

    #[test]
    fn bodies_round_trip_and_rolled_back_files_vanish() {
        let dir = std::env::temp_dir().join(format!("cordon-bodies-{}", Uuid::new_v4()));
        let bd = BodyDir::open(dir.clone()).unwrap();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut w = BodyWriter::create(bd.path(), a).unwrap();
        let p1 = append(&mut w, &event(1, "one 192.0.2.7"), &["192.0.2.7".parse().unwrap()]);
        let p2 = append(&mut w, &event(2, ""), &[]);
        let p3 = append(&mut w, &event(3, "three"), &[]);
        w.finish().unwrap();
        let mut rolled = BodyWriter::create(bd.path(), b).unwrap();
        append(&mut rolled, &event(1, "gone"), &[]);
        rolled.discard();
        assert!(!bd.path().join(file_name(b)).exists());
        let mut empty = BodyWriter::create(bd.path(), c).unwrap();
        empty.finish().unwrap();

        let m = bd.map(a).unwrap();
        let one = render(&m, p1).unwrap();
        assert_eq!(one["source_id"], a.to_string());
        assert_eq!(one["source"], "x.log");
        assert_eq!(one["message"], "one 192.0.2.7");
        assert_eq!(one["ips"], serde_json::json!(["192.0.2.7"]));
        assert_eq!(one["provenance"]["line"], 1);
        assert_eq!(render(&m, p2).unwrap()["message"], "");
        assert_eq!(render(&m, p3).unwrap()["provenance"]["line"], 3);
        assert_eq!(render(&m, p3 + 1), None, "a position inside a record is not a record");
        assert_eq!(render(&m, u64::MAX), None);
        assert!(bd.map(c).is_ok(), "a source without events has a readable file");

        std::fs::write(bd.path().join(file_name(b)), b"left by a crash").unwrap();
        assert!(bd.map(b).is_err(), "not a body file");
        bd.remove_except(&[a, c]).unwrap();
        assert!(!bd.path().join(file_name(b)).exists());
        assert_eq!(render(&bd.map(a).unwrap(), p1).unwrap()["message"], "one 192.0.2.7");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_of_the_json_layout_are_still_read() {
        let dir = std::env::temp_dir().join(format!("cordon-bodies-{}", Uuid::new_v4()));
        let bd = BodyDir::open(dir.clone()).unwrap();
        let a = Uuid::new_v4();
        let json = br#"{"source_id":"x","message":"old"}"#;
        let mut file = MAGIC_JSON.to_vec();
        file.extend_from_slice(&(json.len() as u32).to_le_bytes());
        file.extend_from_slice(json);
        std::fs::write(bd.path().join(file_name(a)), &file).unwrap();
        let m = bd.map(a).unwrap();
        let mut out = Vec::new();
        assert!(m.render(MAGIC_JSON.len() as u64, &mut out));
        assert_eq!(out, json);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_damaged_record_is_not_rendered() {
        let dir = std::env::temp_dir().join(format!("cordon-bodies-{}", Uuid::new_v4()));
        let bd = BodyDir::open(dir.clone()).unwrap();
        let a = Uuid::new_v4();
        let mut w = BodyWriter::create(bd.path(), a).unwrap();
        let p = append(&mut w, &event(1, "fine"), &[]);
        w.finish().unwrap();
        let path = bd.path().join(file_name(a));
        let mut bytes = std::fs::read(&path).unwrap();
        // Cut the record short by one byte (its length field says one byte less).
        let at = p as usize;
        let n = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) - 1;
        bytes[at..at + 4].copy_from_slice(&n.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let mut out = Vec::new();
        assert!(!bd.map(a).unwrap().render(p, &mut out));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
