//! A repository rule, run as a test: the service reads incidents only in the gate
//! (`src/gate.rs`), so no new path can reach one without passing it — and nothing makes a
//! principal up (the engine is `Actor::System`, never a borrowed or invented user).

use std::path::{Path, PathBuf};

/// Store calls that hand out an incident.
const INCIDENT_READS: &[&str] = &[
    ".incident(",
    ".incident_for_viewer(",
    ".incident_view(",
    ".incident_by_codename(",
    ".room_incident(",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_gate_reads_incidents_and_nothing_invents_a_principal() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 10, "found the sources: {files:?}");
    let mut offences = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        // The code without comments or whitespace, so calls split over lines are seen too.
        let code: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<String>()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for call in INCIDENT_READS {
            if rel != "gate.rs" && code.contains(&format!("store{call}")) {
                offences.push(format!("{rel}: reads an incident outside the gate (`store{call}…`)"));
            }
        }
        // A struct literal, not a return type (`-> &Principal {`) or a field's type.
        let literal = code.match_indices("Principal{").any(|(at, _)| {
            let before = code[..at].chars().next_back();
            !matches!(before, Some('&' | '>'))
        });
        if literal {
            offences.push(format!("{rel}: makes up a principal"));
        }
    }
    assert!(offences.is_empty(), "\n{}", offences.join("\n"));
}
