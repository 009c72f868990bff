//! Log parsers: raw log bytes in, normalized timeline events and line diagnostics out.
