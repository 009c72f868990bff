//! A repository rule, run as a test: the CLI reaches the API through the typed bodies of
//! `cordon-api` only. No field of an answer is looked up by its name (`v["codename"]`,
//! `.get("codename")`, `.pointer("/task/id")`) and no request body is written by hand
//! (`json!({ … })`), so a field renamed on one side is a compile error on the other.

use std::path::Path;

/// The ways of reaching into untyped JSON this rule refuses, with what to do instead.
fn findings(line: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    if line.contains("json!(") {
        found.push("a body written with json!: use the request type of cordon_api");
    }
    if line.contains(".pointer(") {
        found.push("a JSON pointer: read the answer into its cordon_api type");
    }
    if names_a_field(line, "[\"", "\"]") {
        found.push("a field looked up by name: read the answer into its cordon_api type");
    }
    if names_a_field(line, ".get(\"", "\")") {
        found.push("a field got by name: read the answer into its cordon_api type");
    }
    found
}

/// Whether `line` has `open`, a field-like name (`a-z`, `_`), then `close`.
fn names_a_field(line: &str, open: &str, close: &str) -> bool {
    line.match_indices(open).any(|(i, _)| {
        let rest = &line[i + open.len()..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(rest.len());
        name_len > 0 && rest[name_len..].starts_with(close)
    })
}

#[test]
fn the_cli_looks_no_field_up_by_name_and_writes_no_body_by_hand() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut refused = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no sources in {}", src.display());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for why in findings(line) {
                refused.push(format!("{}:{}: {why}\n    {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn the_rule_sees_what_it_refuses_and_lets_paths_pass() {
    assert_eq!(findings(r#"let c = v["codename"];"#).len(), 1);
    assert_eq!(findings(r#"m.get("user")"#).len(), 1);
    assert_eq!(findings(r#"item.pointer("/task/id")"#).len(), 1);
    assert_eq!(findings(r#"post(path, &json!({ "title": t }))"#).len(), 1);
    assert!(findings(r#"client.get("/api/v1/audit/verify")"#).is_empty());
    assert!(findings(r#"headers.get(WARNINGS_HEADER)"#).is_empty());
    assert!(findings(r#"let x = a[0];"#).is_empty());
}
