//! The guide's communication rules as a linter. Rules are data ([`RULES`]: a stable id, a
//! severity and what it checks, documented in `docs/communications-rules.md`); a deployment
//! can add banned phrases, set the disclosure warning, and disable rules with a reason
//! ([`LintPolicy`]).

use std::sync::LazyLock;

use jiff::{SignedDuration, Timestamp};
use regex::Regex;

use super::Audience;
use crate::error::DomainError;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// One rule of the guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// What the rule asks for.
    pub summary: &'static str,
    /// The audiences it applies to.
    pub audiences: &'static [Audience],
}

use Audience::*;

const NOTICES: &[Audience] = &[External, CustomerSecurity];
const ALL: &[Audience] = &Audience::ALL;

/// Every rule, in the order findings are reported.
pub const RULES: &[Rule] = &[
    Rule {
        id: "title-date",
        severity: Severity::Error,
        summary: "An external announcement carries its date in the title.",
        audiences: NOTICES,
    },
    Rule {
        id: "banned-phrase",
        severity: Severity::Error,
        summary: "No \"we take security seriously\" or any other configured stock phrase.",
        audiences: ALL,
    },
    Rule {
        id: "timeline",
        severity: Severity::Error,
        summary: "The message gives a timeline with dates and times.",
        audiences: &[Internal, External, CustomerSecurity, Regulator, LawEnforcement, Insurer],
    },
    Rule {
        id: "exposure-stated",
        severity: Severity::Error,
        summary: "When data was exposed, the message says which data and what it means for customers.",
        audiences: &[External, CustomerSecurity, Regulator],
    },
    Rule {
        id: "placeholder",
        severity: Severity::Error,
        summary: "Nothing is left to fill in: no `<Describe …>` placeholder, no template syntax, no TBD/TODO/FIXME/XXX.",
        audiences: ALL,
    },
    Rule {
        id: "third-party-named",
        severity: Severity::Error,
        summary: "No third party is named unless its part is already public (mark the draft public).",
        audiences: &[Internal, External, CustomerSecurity],
    },
    Rule {
        id: "internal-detail",
        severity: Severity::Warning,
        summary: "Internal notes stay at the timeline summary and the mitigations: no addresses, hashes, host names or exploit detail.",
        audiences: &[Internal],
    },
    Rule {
        id: "disclosure-delay",
        severity: Severity::Warning,
        summary: "Disclosure should follow discovery within a few days (configurable).",
        audiences: NOTICES,
    },
];

/// Looks a rule up by id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// A rule switched off in one deployment, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledRule {
    pub rule: &'static str,
    pub reason: String,
}

/// A deployment's settings of the linter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintPolicy {
    /// Lowercase phrases; matched case-insensitively with whitespace collapsed.
    pub banned_phrases: Vec<String>,
    pub disclosure_warn_days: u32,
    pub disabled: Vec<DisabledRule>,
    /// Third parties (vendors, operators) that must not be named as a cause unless public.
    pub third_parties: Vec<String>,
}

/// The phrases the guide names, always banned.
pub const DEFAULT_BANNED: [&str; 3] = [
    "we take security seriously",
    "we take security very seriously",
    "we take your security seriously",
];

impl Default for LintPolicy {
    fn default() -> Self {
        Self {
            banned_phrases: DEFAULT_BANNED.iter().map(|s| s.to_string()).collect(),
            disclosure_warn_days: 3,
            disabled: Vec::new(),
            third_parties: Vec::new(),
        }
    }
}

impl LintPolicy {
    /// Builds a policy from configuration: extra phrases on top of the guide's, rules to
    /// disable (each must exist and carry a reason), and known third parties.
    pub fn new(
        extra_phrases: &[String],
        disclosure_warn_days: u32,
        disabled: &[(String, String)],
        third_parties: &[String],
    ) -> Result<Self, DomainError> {
        let mut policy = Self {
            disclosure_warn_days,
            ..Self::default()
        };
        for p in extra_phrases {
            let p = normalize(p);
            if !p.is_empty() && !policy.banned_phrases.contains(&p) {
                policy.banned_phrases.push(p);
            }
        }
        for (id, reason) in disabled {
            let r = rule(id.trim())
                .ok_or_else(|| DomainError::invalid("disabled_rules", format!("unknown communication rule `{id}`")))?;
            if reason.trim().is_empty() {
                return Err(DomainError::invalid(
                    "disabled_rules",
                    format!("disabling `{id}` needs a reason"),
                ));
            }
            policy.disabled.push(DisabledRule {
                rule: r.id,
                reason: reason.trim().to_owned(),
            });
        }
        policy.third_parties = third_parties
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(policy)
    }

    fn enabled(&self, id: &str) -> bool {
        !self.disabled.iter().any(|d| d.rule == id)
    }
}

/// What the linter looks at.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub audience: Audience,
    pub title: &'a str,
    pub body: &'a str,
    /// The draft is marked as naming only parties whose part is already public.
    pub third_parties_public: bool,
    /// Exposed data categories (from the exposure register), e.g. `email addresses`.
    pub exposures: &'a [String],
    /// Names of vendors and operators known to the incident (the contact log), on top of the
    /// policy's list.
    pub third_parties: &'a [String],
    /// When the incident was discovered (declared).
    pub discovered_at: Timestamp,
    pub now: Timestamp,
}

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b\d{4}-\d{2}-\d{2}\b                                   # 2026-11-27
        | \b\d{4}/\d{1,2}/\d{1,2}\b                             # 2026/11/27
        | \d{4}年\s*\d{1,2}月\s*\d{1,2}日                        # 2026年11月27日
        | \b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(st|nd|rd|th)?,?\s+\d{4}\b
        | \b\d{1,2}(st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4}\b
        ",
    )
    .expect("date pattern")
});

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([01]?\d|2[0-3]):[0-5]\d\b|\d{1,2}時(\d{1,2}分)?|T\d{2}:\d{2}").expect("time pattern")
});

static IMPACT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(impact|affect(s|ed)?|what this means|risk to you)\b|影響").expect("impact"));

static DETAIL: LazyLock<[(&'static str, Regex); 5]> = LazyLock::new(|| {
    [
        ("an IP address", Regex::new(r"\b(\d{1,3}\.){3}\d{1,3}\b|\b([0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b").expect("ip")),
        ("a hash", Regex::new(r"(?i)\b[0-9a-f]{32}\b|\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b").expect("hash")),
        (
            "a host name",
            Regex::new(r"(?i)\b[a-z0-9][a-z0-9-]*\.(internal|local|corp|lan|int|prod|dev)\b|\b[a-z0-9-]+\.[a-z0-9-]+\.[a-z]{2,}\b")
                .expect("host"),
        ),
        ("a CVE id", Regex::new(r"(?i)\bCVE-\d{4}-\d{4,}\b").expect("cve")),
        (
            "exploit detail",
            Regex::new(r"(?i)\b(exploit(ed|s)?\s+(code|chain|payload)|shellcode|reverse shell|payload|privilege escalation via|webshell|web shell)\b")
                .expect("exploit"),
        ),
    ]
});

/// What templates leave to fill in: `<Describe the impact…>` (an angle bracket, a capital
/// letter, words — not a tag, an address or a link), template syntax that did not render, and
/// the usual markers of unfinished text.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        <\p{Lu}[^<>\n]*\s[^<>\n]*>      # <Describe the impact on customers>
        | \{\{[^\n]*?\}\} | \{%[^\n]*?%\}  # template syntax left as is
        | \[(?i:tbd|tbc|todo|insert[^\]\n]*|fill[^\]\n]*)\]
        | \b(TBD|TBC|TODO|FIXME|XXX)\b
        ",
    )
    .expect("placeholder pattern")
});

/// Lowercase, whitespace collapsed, typographic apostrophes straightened.
fn normalize(s: &str) -> String {
    s.replace(['\u{2019}', '\u{2018}'], "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn contains_word(haystack_lower: &str, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    if needle.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(pos) = haystack_lower[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before = haystack_lower[..start].chars().next_back();
        let after = haystack_lower[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if boundary(before) && boundary(after) {
            return true;
        }
        from = start + needle.len().max(1);
        while !haystack_lower.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Checks a draft against every enabled rule that applies to its audience.
pub fn lint(draft: &Draft<'_>, policy: &LintPolicy) -> Vec<Finding> {
    let mut out = Vec::new();
    let text = format!("{}\n{}", draft.title, draft.body);
    let lower = normalize(&text);
    for rule in RULES {
        if !rule.audiences.contains(&draft.audience) || !policy.enabled(rule.id) {
            continue;
        }
        let mut finding = |message: String| {
            out.push(Finding {
                rule: rule.id,
                severity: rule.severity,
                message,
            })
        };
        match rule.id {
            "title-date" => {
                if !DATE.is_match(draft.title) {
                    finding("the title carries no date (e.g. \"2026-11-27: …\")".into());
                }
            }
            "banned-phrase" => {
                for p in &policy.banned_phrases {
                    if lower.contains(p.as_str()) {
                        finding(format!("says \"{p}\": show it with facts instead"));
                    }
                }
            }
            "timeline" => {
                if !(DATE.is_match(draft.body) && TIME.is_match(draft.body)) {
                    finding("no timeline with dates and times in the body".into());
                }
            }
            "exposure-stated" => {
                if !draft.exposures.is_empty() {
                    let missing: Vec<&str> = draft
                        .exposures
                        .iter()
                        .filter(|e| !lower.contains(&normalize(e)))
                        .map(String::as_str)
                        .collect();
                    if !missing.is_empty() {
                        finding(format!(
                            "does not say that this data was exposed: {}",
                            missing.join(", ")
                        ));
                    }
                    if !IMPACT.is_match(&text) {
                        finding("does not state the impact on customers".into());
                    }
                }
            }
            "placeholder" => {
                for (part, src) in [("title", draft.title), ("body", draft.body)] {
                    for m in PLACEHOLDER.find_iter(src) {
                        finding(format!(
                            "the {part} still has a placeholder to fill in: `{}`",
                            m.as_str()
                        ));
                    }
                }
            }
            "third-party-named" => {
                if !draft.third_parties_public {
                    let mut named: Vec<&str> = policy
                        .third_parties
                        .iter()
                        .chain(draft.third_parties)
                        .map(String::as_str)
                        .filter(|n| contains_word(&lower, n))
                        .collect();
                    named.sort_unstable();
                    named.dedup();
                    for n in named {
                        finding(format!(
                            "names \"{n}\": name a third party only once its part is public (mark the draft public)"
                        ));
                    }
                }
            }
            "internal-detail" => {
                for (what, re) in DETAIL.iter() {
                    if let Some(m) = re.find(draft.body) {
                        finding(format!(
                            "contains {what} (`{}`): keep internal notes to the timeline summary and mitigations",
                            m.as_str()
                        ));
                    }
                }
            }
            "disclosure-delay" => {
                let limit = SignedDuration::from_hours(24 * i64::from(policy.disclosure_warn_days));
                let since = draft.now.duration_since(draft.discovered_at);
                if since > limit {
                    finding(format!(
                        "disclosure comes {} days after discovery (more than {})",
                        since.as_hours() / 24,
                        policy.disclosure_warn_days
                    ));
                }
            }
            other => unreachable!("rule `{other}` has no check"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn draft<'a>(audience: Audience, title: &'a str, body: &'a str) -> Draft<'a> {
        Draft {
            audience,
            title,
            body,
            third_parties_public: false,
            exposures: &[],
            third_parties: &[],
            discovered_at: t("2026-11-25T09:00:00Z"),
            now: t("2026-11-27T12:00:00Z"),
        }
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule).collect()
    }

    const PLAIN: &str = "On 2026-11-24 at 22:10 UTC an attacker used a stolen key to read our order database. \
        At 03:05 UTC on 2026-11-25 we revoked the key.";

    #[test]
    fn undated_and_serious_gets_both_findings_plain_gets_none() {
        let p = LintPolicy::default();
        let bad = draft(
            External,
            "Security incident",
            "We take security very  seriously. Nothing else.",
        );
        let f = lint(&bad, &p);
        assert!(ids(&f).contains(&"title-date"), "{f:?}");
        assert!(ids(&f).contains(&"banned-phrase"), "{f:?}");
        let good = draft(External, "2026-11-27: Unauthorized access to order data", PLAIN);
        assert_eq!(lint(&good, &p), []);
        let jp = draft(
            External,
            "2026年11月27日 不正アクセスについて",
            "2026年11月24日 22時10分 検知",
        );
        assert_eq!(lint(&jp, &p), []);
        let us = draft(External, "November 27, 2026 — Security update", PLAIN);
        assert_eq!(lint(&us, &p), []);
    }

    #[test]
    fn configured_phrases_and_disabled_rules() {
        let p = LintPolicy::new(
            &["Your privacy is our top priority".into()],
            3,
            &[("title-date".into(), "titles are set by the status page".into())],
            &[],
        )
        .unwrap();
        let d = draft(
            External,
            "Update",
            "Your privacy is  our top priority. 2026-11-24 22:10",
        );
        assert_eq!(ids(&lint(&d, &p)), ["banned-phrase"]);
        assert!(LintPolicy::new(&[], 3, &[("title-date".into(), " ".into())], &[]).is_err());
        assert!(LintPolicy::new(&[], 3, &[("no-such-rule".into(), "x".into())], &[]).is_err());
    }

    #[test]
    fn timeline_and_exposures() {
        let p = LintPolicy::default();
        let d = draft(Regulator, "Notification", "Something happened last week.");
        assert_eq!(ids(&lint(&d, &p)), ["timeline"]);
        let exposures = vec!["email addresses".to_string(), "order history".to_string()];
        let mut d = draft(CustomerSecurity, "2026-11-27 notice", PLAIN);
        d.exposures = &exposures;
        let f = lint(&d, &p);
        assert_eq!(ids(&f), ["exposure-stated", "exposure-stated"], "{f:?}");
        assert!(f[0].message.contains("email addresses"));
        let body = format!(
            "{PLAIN} Email addresses and order history were exposed; affected customers may get phishing mail."
        );
        d.body = &body;
        assert_eq!(lint(&d, &p), []);
    }

    #[test]
    fn third_parties_only_when_public() {
        let p = LintPolicy::new(&[], 3, &[], &["Acme Cloud".into()]).unwrap();
        let contacts = vec!["Hostly".to_string()];
        let body = format!("{PLAIN} The key leaked from Acme Cloud and hostly's backup.");
        let mut d = draft(External, "2026-11-27 notice", &body);
        d.third_parties = &contacts;
        assert_eq!(ids(&lint(&d, &p)), ["third-party-named", "third-party-named"]);
        d.third_parties_public = true;
        assert_eq!(lint(&d, &p), []);
        assert!(!contains_word("acmecloudy", "acme cloud"));
    }

    #[test]
    fn internal_notes_stay_high_level() {
        let p = LintPolicy::default();
        let body = format!("{PLAIN} Attacker came from 203.0.113.7 and dropped a webshell on db1.prod.example.com.");
        let f = lint(&draft(Internal, "Update", &body), &p);
        assert!(ids(&f).iter().all(|i| *i == "internal-detail"), "{f:?}");
        assert!(f.len() >= 3, "{f:?}");
        assert_eq!(lint(&draft(Internal, "Update", PLAIN), &p), []);
    }

    #[test]
    fn placeholders_left_in_are_errors() {
        let p = LintPolicy::default();
        let body = format!(
            "{PLAIN}\n## What this means for you\n<Describe the impact on affected customers and what they should do.>"
        );
        let f = lint(&draft(External, "2026-11-27: notice", &body), &p);
        assert_eq!(ids(&f), ["placeholder"], "{f:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("<Describe the impact"), "{f:?}");
        for left in [
            "<State what data was exposed — no exposure is recorded yet>",
            "Impact: TBD",
            "{{ incident.codename }}",
            "[Insert customer count]",
            "TODO: ask legal",
        ] {
            let body = format!("{PLAIN} {left}");
            assert_eq!(
                ids(&lint(&draft(Regulator, "Notice", &body), &p)),
                ["placeholder"],
                "{left}"
            );
        }
        let title = lint(&draft(Internal, "Update on <Codename here>", PLAIN), &p);
        assert_eq!(ids(&title), ["placeholder"]);
        assert!(title[0].message.contains("title"));
        // Tags, addresses, links and words that merely contain the markers are not placeholders.
        for fine in [
            "Write to <security@example.com> or see <https://status.example.com/incident>.",
            "Use <b>bold</b> where it helps; a->b<c; x<Y.",
            "Todo lists and the mistbdone account are fine, and so is [1] or [a link](https://x.example).",
        ] {
            let body = format!("{PLAIN} {fine}");
            assert_eq!(lint(&draft(Regulator, "Notice", &body), &p), [], "{fine}");
        }
    }

    #[test]
    fn late_disclosure_warns() {
        let p = LintPolicy::default();
        let mut d = draft(External, "2026-12-05 notice", PLAIN);
        d.now = t("2026-12-05T12:00:00Z");
        let f = lint(&d, &p);
        assert_eq!(ids(&f), ["disclosure-delay"]);
        assert_eq!(f[0].severity, Severity::Warning);
    }

    #[test]
    fn every_rule_is_checked_and_documented() {
        let doc = include_str!("../../../../docs/communications-rules.md");
        for r in RULES {
            assert!(doc.contains(&format!("`{}`", r.id)), "{} undocumented", r.id);
        }
    }
}
