//! Codenames: two meaningless words (adjective + noun) from curated lists.
//!
//! A codename is never derived from the title: it is drawn by the caller's random source, so
//! nothing about the incident leaks through its name. Uniqueness among open incidents is the
//! store's job (a unique index); the service redraws on a clash.

use std::fmt;
use std::sync::OnceLock;

const ADJECTIVES_TXT: &str = include_str!("codename/adjectives.txt");
const NOUNS_TXT: &str = include_str!("codename/nouns.txt");

/// The curated word lists, parsed once.
#[derive(Debug)]
pub struct WordLists {
    pub adjectives: Vec<&'static str>,
    pub nouns: Vec<&'static str>,
}

/// The built-in lists.
pub fn words() -> &'static WordLists {
    static WORDS: OnceLock<WordLists> = OnceLock::new();
    WORDS.get_or_init(|| WordLists {
        adjectives: parse_list(ADJECTIVES_TXT),
        nouns: parse_list(NOUNS_TXT),
    })
}

fn parse_list(text: &'static str) -> Vec<&'static str> {
    text.lines().map(str::trim).filter(|w| !w.is_empty()).collect()
}

/// An incident's codename, e.g. `Sapphire Unicorn`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Codename {
    adjective: String,
    noun: String,
}

impl Codename {
    /// Draws a codename. `pick(n)` must return a uniformly random index below `n`.
    pub fn draw(mut pick: impl FnMut(usize) -> usize) -> Self {
        let w = words();
        let adjective = w.adjectives[pick(w.adjectives.len()) % w.adjectives.len()];
        let noun = w.nouns[pick(w.nouns.len()) % w.nouns.len()];
        Self {
            adjective: adjective.to_owned(),
            noun: noun.to_owned(),
        }
    }

    /// Rebuilds a stored codename from its key (`sapphire-unicorn`).
    pub fn from_key(key: &str) -> Option<Self> {
        let (adjective, noun) = key.split_once('-')?;
        if adjective.is_empty() || noun.is_empty() || noun.contains('-') {
            return None;
        }
        Some(Self {
            adjective: adjective.to_owned(),
            noun: noun.to_owned(),
        })
    }

    /// The lookup key: lower case, words joined by a hyphen.
    pub fn key(&self) -> String {
        format!("{}-{}", self.adjective, self.noun)
    }
}

impl fmt::Display for Codename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", capitalize(&self.adjective), capitalize(&self.noun))
    }
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Normalizes how a person types a codename: any case, spaces, hyphens or underscores between
/// the words → `sapphire-unicorn`.
pub fn codename_key(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    /// Words that must never appear in a codename: alarming, violent, offensive, or security
    /// jargon that would give the incident away.
    const DENY: &[&str] = &[
        "attack", "breach", "hack", "hacker", "leak", "virus", "worm", "trojan", "phish", "malware", "exploit",
        "ransom", "dead", "death", "kill", "killer", "murder", "blood", "bloody", "war", "bomb", "gun", "knife",
        "sword", "spear", "arrow", "dagger", "bullet", "fire", "burning", "toxic", "poison", "plague", "cancer",
        "crash", "fail", "panic", "fear", "terror", "evil", "devil", "demon", "hell", "black", "white", "yellow",
        "brown", "red", "blind", "dumb", "crazy", "mad", "gay", "fat", "naked", "sex", "drunk", "beer", "wine",
        "secret", "hidden", "stolen", "lost", "exposed", "critical", "urgent", "spider", "rat", "snake", "viper",
        "scorpion", "shark", "wasp", "bug", "mole", "ghost", "zombie", "skull", "grave", "tomb", "doom", "chaos",
        "storm", "flood", "quake",
    ];

    fn well_formed(list: &[&str]) {
        let mut seen = HashSet::new();
        for w in list {
            assert!((3..=10).contains(&w.len()), "{w}: 3 to 10 letters");
            assert!(w.bytes().all(|b| b.is_ascii_lowercase()), "{w}: lowercase ascii only");
            assert!(seen.insert(*w), "{w}: duplicate");
            assert!(!DENY.contains(w), "{w}: on the deny list");
        }
    }

    #[test]
    fn lists_are_large_curated_and_disjoint() {
        let w = words();
        assert!(w.adjectives.len() >= 300, "only {} adjectives", w.adjectives.len());
        assert!(w.nouns.len() >= 300, "only {} nouns", w.nouns.len());
        well_formed(&w.adjectives);
        well_formed(&w.nouns);
        let adj: HashSet<_> = w.adjectives.iter().collect();
        assert!(
            w.nouns.iter().all(|n| !adj.contains(n)),
            "a word is both adjective and noun"
        );
    }

    #[test]
    fn display_and_key() {
        let c = Codename::from_key("sapphire-unicorn").unwrap();
        assert_eq!(c.to_string(), "Sapphire Unicorn");
        assert_eq!(c.key(), "sapphire-unicorn");
        assert_eq!(codename_key(&c.to_string()), c.key());
        assert!(Codename::from_key("sapphire").is_none());
        assert!(Codename::from_key("a-b-c").is_none());
    }

    proptest! {
        #[test]
        fn drawn_codenames_are_two_listed_words(a in any::<usize>(), n in any::<usize>()) {
            let mut picks = [a, n].into_iter();
            let c = Codename::draw(|len| picks.next().unwrap() % len);
            let w = words();
            let key = c.key();
            let (adj, noun) = key.split_once('-').unwrap();
            prop_assert!(w.adjectives.contains(&adj));
            prop_assert!(w.nouns.contains(&noun));
            prop_assert_eq!(codename_key(&c.to_string()), key.clone());
            prop_assert_eq!(Codename::from_key(&key), Some(c));
        }

        #[test]
        fn codename_key_is_idempotent(s in "[A-Za-z _-]{0,40}") {
            let k = codename_key(&s);
            prop_assert_eq!(codename_key(&k), k.clone());
            prop_assert!(!k.starts_with('-') && !k.ends_with('-') && !k.contains("--"));
        }
    }
}
