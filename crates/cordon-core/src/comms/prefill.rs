//! What a prefilled draft may say, taken from the registers alone and phrased for its
//! audience.
//!
//! A draft for an audience outside the team ([`Audience::is_outside`]) is told only what the
//! containment and impact registers record — assets that were compromised, isolated, imaged or
//! rebuilt, credentials rotated or revoked, indicators found in the logs, exposures — counted,
//! never named (host and credential names are internal detail). Decisions, contacts, role and
//! user names and checklist titles never reach it. What the registers do not record is left to
//! a placeholder in the template, which the `placeholder` lint rule holds until someone fills
//! it in; nothing here claims what no record supports.

use crate::Timestamp;
use crate::comms::Audience;
use crate::register::{AssetState, CredentialState};

/// How a message speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    /// The team itself: names and states as recorded.
    Inside,
    /// The public and customers' security teams: "we", plain words, no names.
    Public,
    /// Regulators, law enforcement, insurers, operators: a formal record, no names.
    Formal,
}

impl Voice {
    pub fn of(a: Audience) -> Self {
        match a {
            Audience::Internal => Self::Inside,
            Audience::External | Audience::CustomerSecurity => Self::Public,
            Audience::Regulator | Audience::LawEnforcement | Audience::Insurer | Audience::Vendor => Self::Formal,
        }
    }
}

/// An asset with every state it entered, oldest first (its creation included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetFacts {
    pub name: String,
    pub moves: Vec<(AssetState, Timestamp)>,
}

/// A credential in its current state, and when it entered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFacts {
    pub name: String,
    pub state: CredentialState,
    pub since: Timestamp,
}

/// A recorded exposure of data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposureFacts {
    pub data: String,
    pub recorded_at: Timestamp,
}

/// An indicator and when the logs show it, if they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorFacts {
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
}

/// What the registers hold for one incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub assets: Vec<AssetFacts>,
    pub credentials: Vec<CredentialFacts>,
    pub indicators: Vec<IndicatorFacts>,
    pub exposures: Vec<ExposureFacts>,
}

/// One line of a prefilled timeline or list of mitigations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at: Timestamp,
    pub what: String,
}

impl Facts {
    /// Whether the registers record a compromise: an asset that entered a compromised state,
    /// or a credential Cordon marked compromised (rotated or revoked ones may have been
    /// replaced as a precaution, and do not count).
    pub fn compromise_recorded(&self) -> bool {
        self.assets
            .iter()
            .any(|a| a.moves.iter().any(|(s, _)| s.implies_compromise()))
            || self.credentials.iter().any(|c| c.state == CredentialState::Compromised)
    }

    /// When each asset first entered `state`.
    fn entered(&self, state: AssetState) -> Vec<(&str, Timestamp)> {
        self.assets
            .iter()
            .filter_map(|a| {
                a.moves
                    .iter()
                    .find(|(s, _)| *s == state)
                    .map(|(_, at)| (a.name.as_str(), *at))
            })
            .collect()
    }

    fn credentials_in(&self, state: CredentialState) -> Vec<&CredentialFacts> {
        self.credentials.iter().filter(|c| c.state == state).collect()
    }
}

/// "one affected system", "3 affected systems".
fn count(n: usize, one: &str, many: &str) -> String {
    match n {
        1 => format!("one {one}"),
        n => format!("{n} {many}"),
    }
}

/// The registers' events, phrased for `audience`, in time order (the declaration and the
/// team's own records are the caller's).
pub fn timeline(audience: Audience, facts: &Facts) -> Vec<Line> {
    let voice = Voice::of(audience);
    let mut out = Vec::new();
    let asset_line = |state: AssetState, name: &str| -> Option<String> {
        Some(match (voice, state) {
            (Voice::Inside, _) => format!("{name} {}", state.as_str()),
            (_, AssetState::Suspected) => return None,
            (Voice::Public, AssetState::Compromised) => {
                "We confirmed unauthorized access to one of our systems.".into()
            }
            (Voice::Public, AssetState::Isolated) => "We isolated an affected system from the network.".into(),
            (Voice::Public, AssetState::Imaged) => "We preserved a forensic image of an affected system.".into(),
            (Voice::Public, AssetState::Rebuilt) => "We rebuilt an affected system from a clean image.".into(),
            (Voice::Public, AssetState::Clean) => "We confirmed an affected system clean.".into(),
            (_, AssetState::Compromised) => "Unauthorized access to a system confirmed.".into(),
            (_, AssetState::Isolated) => "An affected system isolated from the network.".into(),
            (_, AssetState::Imaged) => "Forensic image of an affected system preserved.".into(),
            (_, AssetState::Rebuilt) => "An affected system rebuilt from a clean image.".into(),
            (_, AssetState::Clean) => "An affected system confirmed clean.".into(),
        })
    };
    for a in &facts.assets {
        let mut compromised = false;
        for (state, at) in &a.moves {
            // Outside, "clean" is news only of a system that was affected.
            let news = voice == Voice::Inside || *state != AssetState::Clean || compromised;
            compromised |= state.implies_compromise();
            if let Some(what) = asset_line(*state, &a.name).filter(|_| news) {
                out.push(Line { at: *at, what });
            }
        }
    }
    for c in &facts.credentials {
        let what = match (voice, c.state) {
            (_, CredentialState::Unaffected) => continue,
            (Voice::Inside, s) => format!("credential {} {}", c.name, s.as_str()),
            (_, CredentialState::Compromised) => continue,
            (Voice::Public, CredentialState::Rotated) => "We rotated a credential that may have been exposed.".into(),
            (Voice::Public, CredentialState::Revoked) => "We revoked a credential that may have been exposed.".into(),
            (_, CredentialState::Rotated) => "A potentially exposed credential rotated.".into(),
            (_, CredentialState::Revoked) => "A potentially exposed credential revoked.".into(),
        };
        out.push(Line { at: c.since, what });
    }
    let first = facts.indicators.iter().filter_map(|i| i.first_seen).min();
    let last = facts.indicators.iter().filter_map(|i| i.last_seen).max();
    if let Some(at) = first {
        let what = match voice {
            Voice::Inside => "earliest sighting of an indicator",
            Voice::Public => "The earliest activity we have linked to the attacker.",
            Voice::Formal => "Earliest recorded activity linked to the attacker.",
        };
        out.push(Line { at, what: what.into() });
    }
    if let Some(at) = last.filter(|l| Some(*l) != first) {
        let what = match voice {
            Voice::Inside => "latest sighting of an indicator",
            Voice::Public => "The latest activity we have linked to the attacker.",
            Voice::Formal => "Latest recorded activity linked to the attacker.",
        };
        out.push(Line { at, what: what.into() });
    }
    for e in &facts.exposures {
        let what = match voice {
            Voice::Inside => format!("exposure recorded: {}", e.data),
            Voice::Public => format!("We confirmed that {} was exposed.", e.data),
            Voice::Formal => format!("Exposure of {} confirmed.", e.data),
        };
        out.push(Line {
            at: e.recorded_at,
            what,
        });
    }
    out.sort_by_key(|l| l.at);
    out
}

/// What was done, as the registers record it, phrased for `audience`: counted for outside
/// audiences, named for the team. Each line carries the latest time it covers.
pub fn mitigations(audience: Audience, facts: &Facts) -> Vec<Line> {
    let voice = Voice::of(audience);
    let mut out = Vec::new();
    let mut push = |items: Vec<(&str, Timestamp)>,
                    public: &dyn Fn(&str) -> String,
                    formal: &dyn Fn(&str) -> String,
                    inside: &str| {
        let Some(at) = items.iter().map(|(_, at)| *at).max() else {
            return;
        };
        let what = match voice {
            Voice::Inside => {
                let names: Vec<&str> = items.iter().map(|(n, _)| *n).collect();
                format!("{inside}: {}", names.join(", "))
            }
            Voice::Public => public(&count(items.len(), "affected system", "affected systems")),
            Voice::Formal => formal(&count(items.len(), "affected system", "affected systems")),
        };
        out.push(Line { at, what });
    };
    push(
        facts.entered(AssetState::Isolated),
        &|n| format!("We isolated {n} from the network."),
        &|n| format!("{} isolated from the network.", capital(n)),
        "Isolated",
    );
    push(
        facts.entered(AssetState::Rebuilt),
        &|n| format!("We rebuilt {n} from clean images."),
        &|n| format!("{} rebuilt from clean images.", capital(n)),
        "Rebuilt",
    );
    let creds = |state| -> Vec<(&str, Timestamp)> {
        facts
            .credentials_in(state)
            .into_iter()
            .map(|c| (c.name.as_str(), c.since))
            .collect()
    };
    for (state, verb) in [
        (CredentialState::Rotated, "rotated"),
        (CredentialState::Revoked, "revoked"),
    ] {
        let items = creds(state);
        let Some(at) = items.iter().map(|(_, at)| *at).max() else {
            continue;
        };
        let n = count(items.len(), "credential", "credentials");
        let what = match voice {
            Voice::Inside => {
                let names: Vec<&str> = items.iter().map(|(n, _)| *n).collect();
                format!("{} credentials: {}", capital(verb), names.join(", "))
            }
            Voice::Public => format!("We {verb} {n} that may have been exposed."),
            Voice::Formal => format!("{} that may have been exposed {verb}.", capital(&n)),
        };
        out.push(Line { at, what });
    }
    if voice == Voice::Inside {
        let pending = creds(CredentialState::Compromised);
        if let Some(at) = pending.iter().map(|(_, at)| *at).max() {
            let names: Vec<&str> = pending.iter().map(|(n, _)| *n).collect();
            out.push(Line {
                at,
                what: format!("Still to rotate or revoke: {}", names.join(", ")),
            });
        }
    }
    let seen = facts.indicators.iter().filter(|i| i.first_seen.is_some()).count();
    let latest = facts.indicators.iter().filter_map(|i| i.last_seen).max();
    if let Some(at) = latest {
        let n = count(seen, "indicator", "indicators");
        let what = match voice {
            Voice::Inside => format!("{} found in the logs; new logs are watched for them", capital(&n)),
            Voice::Public => {
                format!("We identified {n} of the attacker's activity in our logs and watch new logs for them.")
            }
            Voice::Formal => format!(
                "{} of the attacker's activity identified in the logs; new logs are watched for them.",
                capital(&n)
            ),
        };
        out.push(Line { at, what });
    }
    out
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn facts() -> Facts {
        Facts {
            assets: vec![
                AssetFacts {
                    name: "web1.prod.internal".into(),
                    moves: vec![
                        (AssetState::Suspected, t("2026-11-27T12:10:00Z")),
                        (AssetState::Compromised, t("2026-11-27T12:20:00Z")),
                        (AssetState::Isolated, t("2026-11-27T12:30:00Z")),
                    ],
                },
                AssetFacts {
                    name: "db1".into(),
                    moves: vec![
                        (AssetState::Compromised, t("2026-11-27T12:25:00Z")),
                        (AssetState::Isolated, t("2026-11-27T12:40:00Z")),
                        (AssetState::Rebuilt, t("2026-11-27T14:00:00Z")),
                    ],
                },
            ],
            credentials: vec![
                CredentialFacts {
                    name: "deploy-key".into(),
                    state: CredentialState::Rotated,
                    since: t("2026-11-27T13:00:00Z"),
                },
                CredentialFacts {
                    name: "aws-root".into(),
                    state: CredentialState::Compromised,
                    since: t("2026-11-27T12:25:00Z"),
                },
            ],
            indicators: vec![IndicatorFacts {
                first_seen: Some(t("2026-11-24T22:10:00Z")),
                last_seen: Some(t("2026-11-26T03:05:00Z")),
            }],
            exposures: vec![],
        }
    }

    #[test]
    fn outside_audiences_get_counts_and_no_names() {
        let f = facts();
        assert!(f.compromise_recorded());
        for a in Audience::ALL.into_iter().filter(|a| a.is_outside()) {
            let text: Vec<String> = timeline(a, &f)
                .into_iter()
                .chain(mitigations(a, &f))
                .map(|l| l.what)
                .collect();
            let all = text.join("\n");
            for secret in ["web1", "db1", "deploy-key", "aws-root", "suspected"] {
                assert!(!all.contains(secret), "{a}: {secret} in {all}");
            }
        }
        let m: Vec<String> = mitigations(Audience::External, &f)
            .into_iter()
            .map(|l| l.what)
            .collect();
        assert_eq!(
            m,
            [
                "We isolated 2 affected systems from the network.",
                "We rebuilt one affected system from clean images.",
                "We rotated one credential that may have been exposed.",
                "We identified one indicator of the attacker's activity in our logs and watch new logs for them.",
            ]
        );
        let m: Vec<String> = mitigations(Audience::Regulator, &f)
            .into_iter()
            .map(|l| l.what)
            .collect();
        assert_eq!(m[0], "2 affected systems isolated from the network.");
        assert_eq!(m[2], "One credential that may have been exposed rotated.");
        let tl = timeline(Audience::External, &f);
        assert_eq!(tl[0].what, "The earliest activity we have linked to the attacker.");
        assert_eq!(tl[0].at, t("2026-11-24T22:10:00Z"));
    }

    #[test]
    fn the_team_gets_names_and_what_is_still_open() {
        let f = facts();
        let m: Vec<String> = mitigations(Audience::Internal, &f)
            .into_iter()
            .map(|l| l.what)
            .collect();
        assert!(m.contains(&"Isolated: web1.prod.internal, db1".to_string()), "{m:?}");
        assert!(m.contains(&"Still to rotate or revoke: aws-root".to_string()), "{m:?}");
        let tl: Vec<String> = timeline(Audience::Internal, &f).into_iter().map(|l| l.what).collect();
        assert!(tl.contains(&"web1.prod.internal suspected".to_string()), "{tl:?}");
    }

    #[test]
    fn nothing_recorded_means_nothing_claimed() {
        let f = Facts::default();
        assert!(!f.compromise_recorded());
        for a in Audience::ALL {
            assert_eq!(timeline(a, &f), []);
            assert_eq!(mitigations(a, &f), []);
        }
        // A suspected asset alone is no compromise, and says nothing outside.
        let f = Facts {
            assets: vec![AssetFacts {
                name: "web1".into(),
                moves: vec![(AssetState::Suspected, t("2026-11-27T12:10:00Z"))],
            }],
            ..Facts::default()
        };
        assert!(!f.compromise_recorded());
        assert_eq!(timeline(Audience::External, &f), []);
    }
}
