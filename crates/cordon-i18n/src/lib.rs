//! Cordon's two languages: the message catalogues (`locales/en.toml`, `locales/ja.toml`,
//! embedded), [`Lang`] and its lookups, choosing a language from a tag or an `Accept-Language`
//! header, and dates as each language writes them in the reader's time zone. One job: the words;
//! who reads which language is decided by the callers — the web UI (`cordon-server`'s
//! `web/i18n.rs`: `?lang=`, the user's setting, the browser, English) and Cordon's chat replies
//! (`cordon-service`'s `chat.rs`: the user's setting, the browser's language in the war room,
//! English).
//!
//! Code and templates name messages by key (`login.title`, `chat.help`), never by English text.
//! A message may hold `{name}` placeholders, filled by [`Lang::tf`]. Keys are flat or dotted
//! TOML (a table `[login]` with `title = …` is the key `login.title`). The unit test below fails
//! when a key or a placeholder is in one catalogue and not the other. A key missing at run time
//! (impossible once the tests of the crates that name keys pass) shows the English message, else
//! `?`.

use std::collections::HashMap;
use std::sync::LazyLock;

use cordon_core::Timestamp;
use jiff::tz::TimeZone;

/// A language of the UI and of Cordon's replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

type Catalogue = HashMap<String, String>;

static EN: LazyLock<Catalogue> = LazyLock::new(|| parse_catalogue(include_str!("../locales/en.toml")));
static JA: LazyLock<Catalogue> = LazyLock::new(|| parse_catalogue(include_str!("../locales/ja.toml")));

fn parse_catalogue(text: &str) -> Catalogue {
    let table: toml::Table = toml::from_str(text).expect("the embedded catalogues parse (tested)");
    let mut out = HashMap::new();
    flatten("", &toml::Value::Table(table), &mut out);
    out
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut Catalogue) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The BCP 47 tag (`<html lang>`, the setting's value).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language a tag names (`en`, `en-GB`, `ja-JP`), if it is one of ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header (highest q, then first).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::from_tag) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    fn catalogue(self) -> &'static Catalogue {
        match self {
            Lang::En => &EN,
            Lang::Ja => &JA,
        }
    }

    /// The message `key` in this language.
    pub fn t(self, key: &str) -> &'static str {
        self.catalogue()
            .get(key)
            .or_else(|| EN.get(key))
            .map(String::as_str)
            .unwrap_or_else(|| {
                tracing::warn!(key, "a message key is missing from the catalogues");
                "?"
            })
    }

    /// The message `key` in this language, else in English, else `None` (for texts that may
    /// come from elsewhere, such as a custom playbook's step titles).
    pub fn lookup(self, key: &str) -> Option<&'static str> {
        self.catalogue().get(key).or_else(|| EN.get(key)).map(String::as_str)
    }

    /// The message `key` with its `{name}` placeholders filled from `args`.
    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        fill(self.t(key), args)
    }

    /// An instant as this language writes it, in `tz`: `5 Dec 2026, 13:05 JST` /
    /// `2026年12月5日 13:05 JST`.
    pub fn datetime(self, at: Timestamp, tz: &TimeZone) -> String {
        let z = at.to_zoned_datetime(tz.clone());
        let format = match self {
            Lang::En => "%-d %b %Y, %H:%M %Z",
            Lang::Ja => "%Y年%-m月%-d日 %H:%M %Z",
        };
        z.strftime(format).to_string()
    }
}

/// `template` with each `{name}` that `args` names replaced by its value, in one pass: a value
/// that itself holds `{name}` (a name someone typed) is never filled in turn.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let arg = after.find('}').and_then(|end| {
            let name = &after[..end];
            args.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v, end))
        });
        match arg {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The zone a user's setting names, else UTC.
pub fn time_zone(name: Option<&str>) -> TimeZone {
    name.and_then(|n| TimeZone::get(n).ok()).unwrap_or(TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn placeholders(s: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = s;
        while let Some(start) = rest.find('{') {
            let Some(len) = rest[start..].find('}') else { break };
            out.insert(rest[start + 1..start + len].to_owned());
            rest = &rest[start + len..];
        }
        out
    }

    #[test]
    fn every_key_and_placeholder_is_in_both_catalogues() {
        let (en, ja) = (&*EN, &*JA);
        assert!(en.len() > 10, "the English catalogue parsed");
        let mut problems = Vec::new();
        for (key, text) in en {
            match ja.get(key) {
                None => problems.push(format!("ja.toml lacks `{key}`")),
                Some(j) if placeholders(j) != placeholders(text) => problems.push(format!(
                    "`{key}`: placeholders differ: en {:?}, ja {:?}",
                    placeholders(text),
                    placeholders(j)
                )),
                Some(_) => {}
            }
        }
        for key in ja.keys().filter(|k| !en.contains_key(*k)) {
            problems.push(format!("en.toml lacks `{key}`"));
        }
        problems.sort();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn the_chat_replies_are_a_table_of_both_catalogues() {
        // The parity test above covers `[chat]` like every table; this one makes sure the
        // table is there (a rename of the table would otherwise pass unnoticed).
        let chat =
            |c: &Catalogue| -> BTreeSet<String> { c.keys().filter(|k| k.starts_with("chat.")).cloned().collect() };
        let (en, ja) = (chat(&EN), chat(&JA));
        assert!(en.len() > 40, "{en:?}");
        assert_eq!(en, ja);
        assert!(Lang::Ja.t("chat.help").contains("!ic page"));
    }

    #[test]
    fn accept_language_picks_ours_by_quality() {
        assert_eq!(Lang::from_accept_language("ja,en;q=0.8"), Some(Lang::Ja));
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr-FR, ja-JP;q=0.5, en;q=0.4"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("ja;q=0"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let at: Timestamp = "2026-12-05T04:05:00Z".parse().unwrap();
        let tokyo = time_zone(Some("Asia/Tokyo"));
        assert_eq!(Lang::Ja.datetime(at, &tokyo), "2026年12月5日 13:05 JST");
        assert_eq!(Lang::En.datetime(at, &tokyo), "5 Dec 2026, 13:05 JST");
        assert_eq!(Lang::En.datetime(at, &time_zone(None)), "5 Dec 2026, 04:05 UTC");
        assert_eq!(time_zone(Some("Not/AZone")), TimeZone::UTC);
    }

    #[test]
    fn placeholders_are_filled() {
        assert!(Lang::En.tf("layout.signed_in_as", &[("name", "olga")]).contains("olga"));
        assert!(Lang::Ja.tf("layout.signed_in_as", &[("name", "olga")]).contains("olga"));
        // Once, each where the message puts it; a value is never filled again, other braces stay.
        assert_eq!(
            fill("{a} then {b}, {a} again; {c} {", &[("a", "{b}"), ("b", "x")]),
            "{b} then x, {b} again; {c} {"
        );
        assert_eq!(fill("no placeholders", &[("a", "1")]), "no placeholders");
        assert_eq!(fill("{ä}{}", &[("ä", "ü"), ("", "-")]), "ü-");
    }
}
