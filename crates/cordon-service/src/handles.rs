//! Handles: what a person may type wherever an id is asked for, resolved by one rule.
//!
//! An item of an incident (an evidence item, a clock, a communication, an asset, a credential,
//! a task, a page) is named by its full id, by a name it carries (a file name, a title, a
//! regime, a step number — each register says which), or by a prefix of its id of at least
//! [`MIN_PREFIX`] hex digits. The rule is the same everywhere:
//!
//! - a full id matches that item only;
//! - otherwise every item whose name is the handle (exactly; failing that, ignoring case) and
//!   every item whose id starts with the handle's hex digits is a candidate;
//! - one candidate is the answer; none is "not found"; several are
//!   [`ServiceError::Ambiguous`], which lists them so that the caller can pick one.
//!
//! Resolution only ever looks at the items it is given: the service passes the items of the
//! one incident the caller passed the gate for, so a prefix never reaches another incident's
//! items (and an ambiguity never lists them).
//!
//! Ids are UUIDv7, whose first twelve hex digits are the creation time: items created close
//! together share a long prefix. What lists show is therefore the *shortest unique* prefix of
//! at least [`SHORT_HANDLE`] digits among the items shown with it ([`short_handles`]), as git
//! abbreviates commits.

use uuid::Uuid;

use crate::{Result, ServiceError};

/// Hex digits an id prefix needs at least to be taken as one.
pub const MIN_PREFIX: usize = 4;
/// Hex digits a displayed short handle has at least.
pub const SHORT_HANDLE: usize = 8;

/// The hex digits of an id, without hyphens.
fn hex(id: Uuid) -> String {
    id.simple().to_string()
}

/// The hex digits of a handle that reads as an id prefix (hex digits, perhaps hyphenated as
/// ids are), lowercased; `None` when it holds anything else.
fn prefix_digits(handle: &str) -> Option<String> {
    let digits: String = handle.chars().filter(|c| *c != '-').collect();
    (!digits.is_empty() && digits.len() <= 32 && digits.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| digits.to_ascii_lowercase())
}

/// For each id, its shortest prefix (at least [`SHORT_HANDLE`] hex digits) that no other id
/// of `ids` starts with.
pub fn short_handles(ids: &[Uuid]) -> Vec<String> {
    let hexes: Vec<String> = ids.iter().copied().map(hex).collect();
    let mut order: Vec<usize> = (0..hexes.len()).collect();
    order.sort_by(|a, b| hexes[*a].cmp(&hexes[*b]));
    let common = |a: usize, b: usize| {
        hexes[a]
            .bytes()
            .zip(hexes[b].bytes())
            .take_while(|(x, y)| x == y)
            .count()
    };
    let mut len = vec![SHORT_HANDLE; hexes.len()];
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if hexes[a] == hexes[b] {
            continue;
        }
        let need = common(a, b) + 1;
        len[a] = len[a].max(need);
        len[b] = len[b].max(need);
    }
    hexes.iter().zip(len).map(|(h, n)| h[..n.min(32)].to_owned()).collect()
}

/// The short handle of `id` among `ids` (which should contain it).
pub fn short_handle_among(id: Uuid, ids: &[Uuid]) -> String {
    let at = ids.iter().position(|i| *i == id);
    match at {
        Some(at) => short_handles(ids).swap_remove(at),
        None => {
            let mut all = ids.to_vec();
            all.push(id);
            short_handles(&all).pop().unwrap_or_default()
        }
    }
}

/// For lists that are a person's own (tokens, chat identities): a handle too short to be a
/// prefix is simply not one of theirs.
pub(crate) fn not_found_unless_ambiguous(e: ServiceError, what: &'static str) -> ServiceError {
    match e {
        ServiceError::Invalid { .. } => ServiceError::NotFound(what),
        e => e,
    }
}

/// What a register says about one of its items for resolution.
pub(crate) struct Named {
    pub id: Uuid,
    /// The names the item answers to besides its id, the one to show first.
    pub names: Vec<String>,
}

/// Resolves `handle` among `items` (the items of one incident the caller passed the gate
/// for) by the rule above. `what` names the kind of item in "not found" and ambiguity
/// answers; `field` is the parameter the handle came in.
pub(crate) fn resolve<'a, T>(
    what: &'static str,
    field: &'static str,
    handle: &str,
    items: &'a [T],
    named: impl Fn(&T) -> Named,
) -> Result<&'a T> {
    resolve_index(what, field, handle, items, named).map(|i| &items[i])
}

/// [`resolve`], answering the position of the item in `items`.
pub(crate) fn resolve_index<T>(
    what: &'static str,
    field: &'static str,
    handle: &str,
    items: &[T],
    named: impl Fn(&T) -> Named,
) -> Result<usize> {
    let handle = handle.trim();
    if handle.is_empty() {
        return Err(ServiceError::invalid(
            field,
            format!("is empty; give a name or an id prefix of at least {MIN_PREFIX} hex digits"),
        ));
    }
    let entries: Vec<Named> = items.iter().map(&named).collect();
    if let Ok(id) = Uuid::parse_str(handle) {
        return entries
            .iter()
            .position(|e| e.id == id)
            .ok_or(ServiceError::NotFound(what));
    }
    let mut hits: Vec<usize> = matching(&entries, |n| n == handle);
    if hits.is_empty() {
        let lower = handle.to_lowercase();
        hits = matching(&entries, |n| n.to_lowercase() == lower);
    }
    let digits = prefix_digits(handle);
    if let Some(d) = digits.as_deref().filter(|d| d.len() >= MIN_PREFIX) {
        for (i, e) in entries.iter().enumerate() {
            if hex(e.id).starts_with(d) && !hits.contains(&i) {
                hits.push(i);
            }
        }
    }
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => match digits {
            Some(d) if d.len() < MIN_PREFIX && handle.len() < MIN_PREFIX => Err(ServiceError::invalid(
                field,
                format!("`{handle}` is no {what} name, and an id prefix needs at least {MIN_PREFIX} hex digits"),
            )),
            _ => Err(ServiceError::NotFound(what)),
        },
        many => {
            let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
            let shorts = short_handles(&ids);
            let candidates = many
                .iter()
                .map(|i| match entries[*i].names.first() {
                    Some(name) => format!("{name} ({})", shorts[*i]),
                    None => shorts[*i].clone(),
                })
                .collect();
            Err(ServiceError::Ambiguous {
                what,
                handle: handle.to_owned(),
                candidates,
            })
        }
    }
}

fn matching(entries: &[Named], is: impl Fn(&str) -> bool) -> Vec<usize> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.names.iter().any(|n| is(n)))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Uuid {
        s.parse().unwrap()
    }

    struct Item(Uuid, &'static str);

    fn named(i: &Item) -> Named {
        Named {
            id: i.0,
            names: vec![i.1.to_owned()],
        }
    }

    fn items() -> Vec<Item> {
        vec![
            Item(id("0193b4e7-c2a1-7000-8000-000000000001"), "web1-root.img"),
            Item(id("0193b4e7-c2a1-7abc-8000-000000000002"), "db1.img"),
            Item(id("0193b4f0-0000-7000-8000-000000000003"), "web1-root.img"),
            Item(id("7193b4f0-0000-7000-8000-000000000004"), "Notes.txt"),
        ]
    }

    #[test]
    fn short_handles_are_the_shortest_unique_prefixes_of_eight_digits_or_more() {
        let ids: Vec<Uuid> = items().iter().map(|i| i.0).collect();
        assert_eq!(
            short_handles(&ids),
            ["0193b4e7c2a170", "0193b4e7c2a17a", "0193b4f0", "7193b4f0"]
        );
        assert_eq!(short_handle_among(ids[3], &ids), "7193b4f0");
        assert!(short_handles(&[]).is_empty());
    }

    #[test]
    fn a_name_a_prefix_or_a_full_id_names_one_item() {
        let items = items();
        let r = |h: &str| resolve("evidence", "id", h, &items, named).map(|i| i.1);
        assert_eq!(r("db1.img").unwrap(), "db1.img");
        assert_eq!(
            r("notes.TXT").unwrap(),
            "Notes.txt",
            "case is ignored when nothing matches exactly"
        );
        assert_eq!(r("7193").unwrap(), "Notes.txt");
        assert_eq!(r("0193b4e7-c2a1-7a").unwrap(), "db1.img", "hyphens as in the id");
        assert_eq!(r("0193B4F0").unwrap(), "web1-root.img");
        assert_eq!(r("0193b4f0-0000-7000-8000-000000000003").unwrap(), "web1-root.img");
        assert!(matches!(
            r("0193b4f0-0000-7000-8000-00000000000f"),
            Err(ServiceError::NotFound("evidence"))
        ));
        assert!(matches!(r("nothing.img"), Err(ServiceError::NotFound("evidence"))));
        assert!(matches!(r("ffff"), Err(ServiceError::NotFound("evidence"))));
    }

    #[test]
    fn several_candidates_are_listed_and_short_prefixes_refused() {
        let items = items();
        let r = |h: &str| resolve("evidence", "id", h, &items, named).map(|i| i.1);
        match r("web1-root.img") {
            Err(ServiceError::Ambiguous { candidates, .. }) => assert_eq!(
                candidates,
                ["web1-root.img (0193b4e7c2a170)", "web1-root.img (0193b4f0)"]
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(r("0193"), Err(ServiceError::Ambiguous { .. })));
        match r("019") {
            Err(ServiceError::Invalid { field: "id", message }) => {
                assert!(message.contains("4 hex digits"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(r("  "), Err(ServiceError::Invalid { .. })));
    }
}
