//! Splits a byte stream arriving in chunks into lines, with 1-based numbers and byte
//! offsets. Lines inside one chunk are handed out without copying; only a line that spans
//! chunks is buffered, and never beyond the limit: a longer line is cut there, the rest of it
//! is dropped up to its newline, and the line is marked as cut.

/// One line as split, without its `\n` (and without a trailing `\r`).
#[derive(Debug)]
pub(crate) struct RawLine<'a> {
    pub bytes: &'a [u8],
    pub number: u64,
    pub offset: u64,
    /// Length in the input without the `\n` (more than `bytes.len()` when cut or CR-ended).
    pub len: u64,
    pub truncated: bool,
}

#[derive(Debug)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
    partial_offset: u64,
    /// Bytes of the current unfinished line seen so far (kept or dropped).
    partial_len: u64,
    /// Offset of the first byte of the next chunk.
    offset: u64,
    /// Number the next line will get.
    next_line: u64,
    max: usize,
}

impl LineSplitter {
    pub(crate) fn new(max_line: usize) -> LineSplitter {
        LineSplitter {
            partial: Vec::new(),
            partial_offset: 0,
            partial_len: 0,
            offset: 0,
            next_line: 1,
            max: max_line.max(1),
        }
    }

    /// Lines handed out so far.
    pub(crate) fn lines(&self) -> u64 {
        self.next_line - 1
    }

    fn emit(&mut self, bytes: &[u8], offset: u64, len: u64, truncated: bool, f: &mut dyn FnMut(RawLine)) {
        let mut bytes = bytes;
        if !truncated && bytes.last() == Some(&b'\r') {
            bytes = &bytes[..bytes.len() - 1];
        }
        let number = self.next_line;
        self.next_line += 1;
        f(RawLine {
            bytes,
            number,
            offset,
            len,
            truncated,
        });
    }

    fn append_partial(&mut self, seg: &[u8]) {
        if self.partial_len == 0 {
            self.partial.clear();
        }
        let room = self.max.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&seg[..seg.len().min(room)]);
        self.partial_len += seg.len() as u64;
    }

    /// Splits `data`, calling `f` for every completed line.
    pub(crate) fn push(&mut self, data: &[u8], f: &mut dyn FnMut(RawLine)) {
        let base = self.offset;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', data) {
            let seg = &data[start..nl];
            if self.partial_len == 0 {
                let truncated = seg.len() > self.max;
                let kept = if truncated { &seg[..self.max] } else { seg };
                self.emit(kept, base + start as u64, seg.len() as u64, truncated, f);
            } else {
                self.append_partial(seg);
                let partial = std::mem::take(&mut self.partial);
                let len = self.partial_len;
                let truncated = len > self.max as u64;
                self.emit(&partial, self.partial_offset, len, truncated, f);
                self.partial = partial;
                self.partial.clear();
                self.partial_len = 0;
            }
            start = nl + 1;
        }
        if start < data.len() {
            if self.partial_len == 0 {
                self.partial_offset = base + start as u64;
            }
            self.append_partial(&data[start..]);
        }
        self.offset += data.len() as u64;
    }

    /// Ends the input: hands out a last line that had no newline.
    pub(crate) fn finish(&mut self, f: &mut dyn FnMut(RawLine)) {
        if self.partial_len > 0 {
            let partial = std::mem::take(&mut self.partial);
            let len = self.partial_len;
            self.emit(&partial, self.partial_offset, len, len > self.max as u64, f);
            self.partial_len = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &[u8], chunk: usize, max: usize) -> Vec<(String, u64, u64, u64, bool)> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        let mut f = |l: RawLine| {
            out.push((
                String::from_utf8_lossy(l.bytes).into_owned(),
                l.number,
                l.offset,
                l.len,
                l.truncated,
            ))
        };
        for c in data.chunks(chunk) {
            s.push(c, &mut f);
        }
        s.finish(&mut f);
        out
    }

    #[test]
    fn same_lines_for_any_chunking() {
        let data = b"ab\r\ncde\n\nlonglonglong\nlast";
        let want = split(data, data.len(), 8);
        for chunk in 1..data.len() {
            assert_eq!(split(data, chunk, 8), want, "chunk {chunk}");
        }
        assert_eq!(want[0], ("ab".into(), 1, 0, 3, false));
        assert_eq!(want[2], ("".into(), 3, 8, 0, false));
        assert_eq!(want[3], ("longlong".into(), 4, 9, 12, true));
        assert_eq!(want[4], ("last".into(), 5, 22, 4, false));
    }
}
