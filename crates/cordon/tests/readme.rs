//! The README's tour, executed: every ```` ```console ```` block of `README.md`, top to bottom,
//! as one shell session against a real server, each command's output checked against what the
//! README shows. The README cannot drift from what Cordon prints.
//!
//! The transcript format: a line starting with `$ ` is a command (a trailing `\` continues it
//! on the next line; a here-document runs to its terminator); the lines after it, up to the next
//! command, are what it prints (standard output and standard error, as they came). In expected lines `[..]`
//! stands for any text within the line, and a line `...` for any number of lines. A command
//! must succeed unless what it prints includes a line starting with `error:`. `cargo …`
//! commands (building and serving) are not run: the test serves Cordon itself, from a fresh
//! `./cordon-data` in the session's directory, and runs the binary the tests were built with as
//! `target/release/cordon` (with the repository's `examples/` beside it). Exported variables carry from one command to the next.

mod common;

use std::path::Path;
use std::sync::Arc;

use cordon_core::clock::ManualClock;

/// One command of the transcript and what it should print.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The commands of every `console` block, in order.
fn transcript(readme: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = readme.lines().enumerate().peekable();
    let mut in_console = false;
    while let Some((n, line)) = lines.next() {
        if !in_console {
            in_console = line.trim_end() == "```console";
            continue;
        }
        if line.trim_end() == "```" {
            in_console = false;
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            let mut command = cmd.to_owned();
            // continuation lines
            while command.ends_with('\\') {
                let Some((_, next)) = lines.next() else { break };
                command.push('\n');
                command.push_str(next);
            }
            // a here-document runs to its terminator
            if let Some(at) = command.find("<<'") {
                let end = command[at + 3..].split('\'').next().unwrap_or("").to_owned();
                for (_, next) in lines.by_ref() {
                    command.push('\n');
                    command.push_str(next);
                    if next.trim_end() == end {
                        break;
                    }
                }
            }
            steps.push(Step {
                line: n + 1,
                command,
                expected: Vec::new(),
            });
        } else if let Some(step) = steps.last_mut() {
            step.expected.push(line.trim_end().to_owned());
        } else {
            panic!("README.md:{}: output before any command in a console block", n + 1);
        }
    }
    assert!(!in_console, "README.md: a console block is not closed");
    steps
}

/// Whether `actual` matches the `expected` line, where `[..]` stands for any text.
fn line_matches(expected: &str, actual: &str) -> bool {
    let mut parts = expected.split("[..]");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Whether the `actual` lines match the `expected` ones, where a line `...` stands for any
/// number of lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..])),
        Some((e, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(e, a) && lines_match(rest, more)),
    }
}

/// Runs `command` in `dir` with the variables exported so far (kept in `state`).
fn run(dir: &Path, state: &Path, command: &str) -> (i32, String) {
    let script = format!(
        "exec 2>&1\n[ -f {state} ] && . {state}\n{command}\n__rc=$?\nexport -p > {state}\nexit $__rc\n",
        state = state.display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("LANG", "C.UTF-8")
        .env("CORDON_LOG", "warn")
        .output()
        .expect("bash runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_transcript_format_reads_commands_outputs_and_wildcards() {
    let steps = transcript(
        "text\n```console\n$ a \\\n  b\none [..] three\n...\n$ cat <<'X'\nbody\nX\n```\n```sh\n$ not run\n```\n",
    );
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].command, "a \\\n  b");
    assert_eq!(steps[0].expected, ["one [..] three", "..."]);
    assert_eq!(steps[1].command, "cat <<'X'\nbody\nX");
    assert!(line_matches("one [..] three", "one two three"));
    assert!(!line_matches("one [..] three", "one two four"));
    assert!(line_matches("[..]", "anything"));
    assert!(!line_matches("exact", "exactly"));
    let e = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(lines_match(&e(&["a", "...", "z"]), &["a", "b", "c", "z"]));
    assert!(lines_match(&e(&["a", "...", "z"]), &["a", "z"]));
    assert!(!lines_match(&e(&["a", "z"]), &["a", "b", "z"]));
    assert!(!lines_match(&e(&["a"]), &["a", "b"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_tour_runs_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let steps = transcript(&readme);
    assert!(steps.len() >= 10, "the README has a tour: {} commands", steps.len());

    // a fresh working directory: Cordon serves from its ./cordon-data, as `cordon serve` would
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    config.data_dir = dir.path().join("cordon-data");
    config.admin_token = None;
    let clock = Arc::new(ManualClock::new(common::start_time()));
    let running = cordon::serve::start(&config, clock).await.expect("server starts");
    let base = format!("http://{}", running.addr);
    let bin = dir.path().join("target/release");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cordon"), bin.join("cordon")).unwrap();
    // the sample logs, where a clone of the repository has them
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::os::unix::fs::symlink(repo.join("examples"), dir.path().join("examples")).unwrap();
    let state = dir.path().join(".tour-env");

    for step in &steps {
        if step.command.starts_with("cargo ") {
            continue;
        }
        let command = step.command.replace("http://127.0.0.1:8077", &base);
        let expected: Vec<String> = step
            .expected
            .iter()
            .map(|l| l.replace("http://127.0.0.1:8077", &base))
            .collect();
        let cwd = dir.path().to_owned();
        let st = state.clone();
        let (code, printed) = tokio::task::spawn_blocking(move || run(&cwd, &st, &command))
            .await
            .unwrap();
        let actual: Vec<&str> = printed.lines().map(str::trim_end).collect();
        let may_fail = expected.iter().any(|l| l.starts_with("error:"));
        assert!(
            lines_match(&expected, &actual) && (code == 0 || may_fail) && (code != 0 || !may_fail),
            "README.md:{}: `{}` exited {code} and printed:\n{printed}\n--- the README shows:\n{}",
            step.line,
            step.command,
            expected.join("\n")
        );
    }
    running.stop().await.unwrap();
}
