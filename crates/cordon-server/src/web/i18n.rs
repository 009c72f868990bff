//! The UI's two languages, from `cordon_i18n` (the catalogues, [`Lang`], dates); what is the
//! web's own is how a page picks its language and that every key its templates and code name is
//! in the catalogues (the test below).
//!
//! A page's language is the first of: an explicit `?lang=` on the page, the user's setting
//! (`PATCH /api/v1/me`), the browser's `Accept-Language`, English (`super::WebCaller`).

pub use cordon_i18n::{Lang, time_zone};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_templates_and_code_name_is_in_the_catalogue() {
        let re = regex::Regex::new(r#"\bt[fn]?\("([a-z0-9_.]+)""#).unwrap();
        let mut dirs = vec![
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")),
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web")),
        ];
        let mut missing = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for c in re.captures_iter(&text) {
                    if Lang::En.lookup(&c[1]).is_none() {
                        missing.push(format!("{}: {}", path.display(), &c[1]));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys used but not in the catalogues:\n{}",
            missing.join("\n")
        );
    }
}
