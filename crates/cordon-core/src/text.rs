//! Which characters people's text may hold: the one check every name, title, note and
//! indicator value goes through before it is stored.
//!
//! Refused everywhere: C0 and C1 control characters (NUL, ESC, DEL, …) and the invisible
//! formatting characters that change how text reads without showing themselves — the
//! bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the
//! directional marks (U+200E, U+200F, U+061C), the zero-width space (U+200B), the word
//! joiner and invisible operators (U+2060–U+2064) and the byte-order mark (U+FEFF), and the
//! line and paragraph separators (U+2028, U+2029). A title with U+202E shows its end first; a
//! name with ESC repaints a terminal that prints it.
//!
//! Multi-line text (descriptions, notes, bodies) may also hold `\n`, `\t` and `\r` before
//! `\n`. The zero-width non-joiner and joiner (U+200C, U+200D) stay allowed: Persian and the
//! Indic scripts need them to spell words, and emoji sequences are built with them.
//!
//! The error names the field and the character's code point, e.g. `title: contains
//! U+001B (a control character) at character 5`.

use crate::error::DomainError;

/// Whether `c` may never appear in stored text (see the module documentation).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// What kind of character `c` is, for the error message.
fn describe(c: char) -> &'static str {
    match c {
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "a bidirectional override",
        '\u{061C}' | '\u{200E}' | '\u{200F}' => "a directional mark",
        '\u{2028}' | '\u{2029}' => "a line separator",
        c if c.is_control() => "a control character",
        _ => "an invisible formatting character",
    }
}

fn refusal(c: char, at: usize) -> String {
    format!(
        "contains U+{:04X} ({}) at character {}; control, bidirectional and invisible formatting characters are not allowed",
        u32::from(c),
        describe(c),
        at + 1
    )
}

/// Why a single-line value (a name, a title, a label, an indicator) is refused: it holds a
/// control or bidirectional formatting character (the first one is named by code point).
/// `None` when it is fine. For crates with their own error type.
pub fn line_refusal(value: &str) -> Option<String> {
    value
        .chars()
        .enumerate()
        .find(|(_, c)| is_forbidden(*c))
        .map(|(at, c)| refusal(c, at))
}

/// Why multi-line text is refused: as [`line_refusal`], except that `\n`, `\t` and a `\r`
/// before `\n` are allowed.
pub fn multiline_refusal(value: &str) -> Option<String> {
    let mut chars = value.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        let ok = match c {
            '\n' | '\t' => true,
            '\r' => chars.peek().is_some_and(|(_, n)| *n == '\n'),
            c => !is_forbidden(c),
        };
        if !ok {
            return Some(refusal(c, at));
        }
    }
    None
}

/// A single-line value: no control or bidirectional formatting character at all.
pub fn check_line(field: &'static str, value: &str) -> Result<(), DomainError> {
    line_refusal(value).map_or(Ok(()), |m| Err(DomainError::invalid(field, m)))
}

/// Multi-line text (a description, a note, a message body): `\n`, `\t` and `\r\n` line
/// ends are kept; every other character [`check_line`] refuses is refused here too.
pub fn check_multiline(field: &'static str, value: &str) -> Result<(), DomainError> {
    multiline_refusal(value).map_or(Ok(()), |m| Err(DomainError::invalid(field, m)))
}

/// [`check_line`] on a trimmed, non-empty value of at most `max` characters; returns it
/// trimmed.
pub fn line(field: &'static str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(field, format!("longer than {max} characters")));
    }
    check_line(field, v)?;
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_the_field_and_the_code_point() {
        let e = check_line("title", "ok\u{1b}[31m").unwrap_err().to_string();
        assert!(
            e.contains("title") && e.contains("U+001B") && e.contains("character 3"),
            "{e}"
        );
        let e = check_line("value", "evil\u{202E}gpj.exe").unwrap_err().to_string();
        assert!(e.contains("U+202E") && e.contains("bidirectional"), "{e}");
        let e = check_line("name", "a\0b").unwrap_err().to_string();
        assert!(e.contains("U+0000"), "{e}");
        assert!(check_line("name", "a\u{85}b").is_err(), "C1 NEL");
        assert!(check_line("name", "a\u{7f}b").is_err(), "DEL");
    }

    #[test]
    fn every_listed_formatting_character_is_refused() {
        for c in [
            '\u{061C}', '\u{200B}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{FEFF}', '\u{2028}', '\u{2029}', '\u{2060}',
        ] {
            let s = format!("a{c}b");
            assert!(check_line("t", &s).is_err(), "{:04X}", u32::from(c));
            assert!(check_multiline("t", &s).is_err(), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn ordinary_text_of_every_script_passes() {
        for s in [
            "Ransomware on db1 — 3 hosts",
            "ファイルサーバーの侵害",
            "نامه‌ای به مشتریان", // Persian, with a zero-width non-joiner
            "हिन्दी",
            "👩‍💻 on call", // an emoji ZWJ sequence
            "Ünïcödé ok",
        ] {
            assert!(check_line("title", s).is_ok(), "{s}");
        }
    }

    #[test]
    fn multi_line_text_keeps_its_line_ends_and_tabs_only() {
        assert!(check_multiline("body", "line 1\nline 2\r\n\tindented\n").is_ok());
        assert!(check_line("title", "line 1\nline 2").is_err());
        assert!(check_line("title", "a\tb").is_err());
        assert!(check_multiline("body", "a\rb").is_err(), "a lone CR rewrites the line");
        assert!(check_multiline("body", "a\r").is_err());
        assert!(check_multiline("body", "a\u{1b}b").is_err());
        assert!(check_multiline("body", "a\u{202E}b").is_err());
    }

    #[test]
    fn line_trims_and_bounds() {
        assert_eq!(line("name", "  web1 ", 10).unwrap(), "web1");
        assert!(line("name", "   ", 10).is_err());
        assert!(line("name", "x".repeat(11).as_str(), 10).is_err());
    }

    proptest! {
        #[test]
        fn no_accepted_line_holds_a_forbidden_character(s in "\\PC*|.*[\u{0}-\u{1f}\u{7f}-\u{9f}\u{200b}-\u{200f}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{feff}\u{61c}].*") {
            if check_line("t", &s).is_ok() {
                prop_assert!(!s.chars().any(is_forbidden));
                prop_assert!(!s.contains(['\n', '\r', '\t']));
            }
        }

        #[test]
        fn no_accepted_text_holds_a_forbidden_character(s in any::<String>()) {
            if check_multiline("t", &s).is_ok() {
                prop_assert!(s.chars().all(|c| !is_forbidden(c) || c == '\n' || c == '\t' || c == '\r'));
                prop_assert!(!s.replace("\r\n", "").contains('\r'));
            }
        }

        /// The domain's validators of names, titles and descriptions accept nothing the
        /// checks above refuse.
        #[test]
        fn validators_accept_no_forbidden_character(
            s in "(\\PC|[\u{0}-\u{1f}\u{7f}-\u{9f}\u{200b}-\u{200f}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{feff}]){0,40}",
        ) {
            let single = [
                crate::incident::validate_title(&s),
                crate::user::validate_name("name", &s),
                crate::user::validate_email(&s),
                line("name", &s, 300),
            ];
            for v in single.into_iter().flatten() {
                prop_assert!(!v.chars().any(is_forbidden), "{v:?}");
            }
            if let Ok(d) = crate::incident::validate_description(&s) {
                prop_assert!(d.chars().all(|c| !is_forbidden(c) || matches!(c, '\n' | '\t' | '\r')), "{d:?}");
            }
        }

        #[test]
        fn a_forbidden_character_anywhere_is_refused(
            before in "[a-zA-Zé ]{0,8}",
            after in "[a-zA-Zé ]{0,8}",
            c in prop::sample::select(vec!['\0', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{200f}', '\u{feff}', '\u{200b}']),
        ) {
            let s = format!("{before}{c}{after}");
            prop_assert!(check_line("t", &s).is_err());
            prop_assert!(check_multiline("t", &s).is_err());
        }
    }
}
