//! How every client command answers: with `--json`, the server's JSON; otherwise text for
//! people — a table of columns, or a few lines of one item.
//!
//! The JSON is the typed answer written back (the bodies of `cordon_api` read back into what
//! the server wrote), with the keys of every object in order, as this command has always
//! printed it: the same bytes whichever way the server ordered its fields.

use std::fmt::Display;

use serde::Serialize;

use crate::cli::Remote;

/// A table column: its header, and a row's cell in it.
pub(crate) type Column<T> = (&'static str, fn(&T) -> String);

/// How `--json` is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One line (most commands).
    Line,
    /// Indented (the communications, clocks and contact log commands).
    Pretty,
}

/// Where a command's answer goes: JSON (`--json`) or text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: Option<Layout>,
}

impl Remote {
    /// How this command prints its answer.
    pub(crate) fn output(&self) -> Output {
        Output {
            json: self.json.then_some(Layout::Line),
        }
    }
}

impl Output {
    /// `--json` indented rather than on one line.
    pub(crate) fn pretty(self) -> Self {
        Self {
            json: self.json.map(|_| Layout::Pretty),
        }
    }

    /// Prints one answer: its JSON, or what `text` prints.
    pub(crate) fn one<T: Serialize>(self, answer: &T, text: impl FnOnce(&T)) -> anyhow::Result<()> {
        match self.json {
            Some(layout) => print_json(answer, layout),
            None => {
                text(answer);
                Ok(())
            }
        }
    }

    /// Prints a list: its JSON, or a table of `columns`.
    pub(crate) fn list<T: Serialize>(self, items: &[T], columns: &[Column<T>]) -> anyhow::Result<()> {
        self.one(&items, |items| print_table(items, columns))
    }
}

/// Prints `answer` as JSON, its objects' keys in order.
fn print_json<T: Serialize + ?Sized>(answer: &T, layout: Layout) -> anyhow::Result<()> {
    // Through `Value`, whose objects keep their keys sorted.
    let value = serde_json::to_value(answer)?;
    match layout {
        Layout::Line => println!("{value}"),
        Layout::Pretty => println!("{}", serde_json::to_string_pretty(&value)?),
    }
    Ok(())
}

/// Prints items as a table of `columns` (for a list inside an answer, or one item as a row).
pub(crate) fn print_table<T>(items: &[T], columns: &[Column<T>]) {
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    let rows = items
        .iter()
        .map(|item| columns.iter().map(|(_, cell)| cell(item)).collect())
        .collect();
    table(&headers, rows);
}

/// Prints rows as aligned columns.
pub(crate) fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r);
    }
}

/// A cell of an optional value: the value, or `-` when there is none.
pub(crate) fn or_dash<T: Display>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(|| "-".to_owned(), T::to_string)
}

/// A cell of a list: its items joined with `sep`, or `-` when it is empty.
pub(crate) fn joined_or_dash(items: &[String], sep: &str) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(sep)
    }
}

/// Where a document (the incident report, an item's custody report) goes, and the zone its
/// times are shown in.
#[derive(Debug, clap::Args)]
pub struct DocumentArgs {
    /// Show times in this IANA time zone, e.g. `Europe/Berlin` (default UTC).
    #[arg(long)]
    pub tz: Option<String>,
    /// Write to this file instead of standard output (a PDF needs one on a terminal).
    #[arg(short = 'o', long)]
    pub output: Option<std::path::PathBuf>,
}

/// Fetches a document (`path` with `query`, which names its format and zone) and writes it to
/// `output`, else to standard output (which a PDF may not be when it is a terminal); `what`
/// names it in the line that says where it went.
pub(crate) async fn write_document<Q: Serialize>(
    remote: &Remote,
    path: &str,
    query: &Q,
    pdf: bool,
    output: Option<std::path::PathBuf>,
    what: &str,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;

    use anyhow::Context;
    use tokio::io::AsyncWriteExt;

    if pdf && output.is_none() && std::io::stdout().is_terminal() {
        anyhow::bail!("a PDF is not for a terminal: write it to a file with -o FILE");
    }
    let cl = crate::cli::client(remote)?;
    let path = crate::client::with_query(path, query)?;
    let body = cl.send(cl.request(reqwest::Method::GET, &path)).await?.bytes().await?;
    match output {
        Some(out) => {
            tokio::fs::write(&out, &body)
                .await
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!("{what} written to {}", out.display());
        }
        None => {
            let mut stdout = tokio::io::stdout();
            stdout.write_all(&body).await?;
            stdout.flush().await?;
        }
    }
    Ok(())
}
