//! The text field's tokenizer: the same tokens, offsets and positions as tantivy's `default`
//! analyzer (split on anything not alphanumeric, drop tokens of 40 bytes or more, lowercase),
//! in one pass without a chain of boxed filters: ASCII bytes are classified and lowercased
//! straight into the token's buffer; only non-ASCII characters are decoded. It is registered
//! under the name `default`, so the schema, the stored indexes and the query parser (which
//! tokenizes `q` with the field's tokenizer) are unchanged.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Tokens of this many bytes or more (before lowercasing) are dropped, as tantivy's
/// `RemoveLongFilter::limit(40)` in the `default` analyzer does. They still take a position.
const MAX_TOKEN_LEN: usize = 40;

/// See the module documentation.
#[derive(Clone, Default)]
pub(crate) struct TextTokenizer {
    token: Token,
}

/// The tokens of one text.
pub(crate) struct TextTokenStream<'a> {
    text: &'a str,
    at: usize,
    token: &'a mut Token,
}

impl Tokenizer for TextTokenizer {
    type TokenStream<'a> = TextTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TextTokenStream<'a> {
        self.token.reset();
        TextTokenStream {
            text,
            at: 0,
            token: &mut self.token,
        }
    }
}

/// Whether the non-ASCII character starting at byte `i` is alphanumeric, and its length.
#[cold]
fn wide_class_at(text: &str, i: usize) -> (bool, usize) {
    // `i` is on a character boundary: the scan only ever steps whole characters.
    let c = text[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
    (c.is_alphanumeric(), c.len_utf8())
}

impl TextTokenStream<'_> {
    /// The next raw token's byte range, from `self.at` on.
    #[inline]
    fn next_range(&mut self) -> Option<(usize, usize)> {
        let text = self.text;
        let bytes = text.as_bytes();
        let len = bytes.len();
        let mut i = self.at;
        let start = loop {
            let Some(&b) = bytes.get(i) else {
                self.at = len;
                return None;
            };
            if b < 0x80 {
                if b.is_ascii_alphanumeric() {
                    break i;
                }
                i += 1;
            } else {
                let (alnum, n) = wide_class_at(text, i);
                if alnum {
                    break i;
                }
                i += n;
            }
        };
        let mut end = start;
        // The separator after the token is consumed with it, as tantivy's tokenizer does.
        let mut after = len;
        while let Some(&b) = bytes.get(end) {
            if b < 0x80 {
                if !b.is_ascii_alphanumeric() {
                    after = end + 1;
                    break;
                }
                end += 1;
            } else {
                let (alnum, n) = wide_class_at(text, end);
                if !alnum {
                    after = end + n;
                    break;
                }
                end += n;
            }
        }
        self.at = after;
        Some((start, end))
    }
}

impl TokenStream for TextTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            self.token.position = self.token.position.wrapping_add(1);
            let Some((from, to)) = self.next_range() else {
                self.token.text.clear();
                return false;
            };
            if to - from >= MAX_TOKEN_LEN {
                continue;
            }
            let word = &self.text[from..to];
            self.token.offset_from = from;
            self.token.offset_to = to;
            let out = &mut self.token.text;
            out.clear();
            if word.is_ascii() {
                out.push_str(word);
                out.make_ascii_lowercase();
            } else {
                // Per character, as tantivy's `LowerCaser` (no final-sigma rule).
                for c in word.chars() {
                    out.extend(c.to_lowercase());
                }
            }
            return true;
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

    type Tokens = Vec<(String, usize, usize, usize)>;

    fn collect(s: &mut dyn TokenStream) -> Tokens {
        let mut out = Vec::new();
        while let Some(t) = s.next() {
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
        }
        out
    }

    fn tokens(text: &str) -> Tokens {
        collect(&mut TextTokenizer::default().token_stream(text))
    }

    fn tantivy_default(text: &str) -> Tokens {
        let mut a = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .build();
        collect(&mut a.token_stream(text))
    }

    #[test]
    fn same_tokens_as_tantivy_default() {
        let long = "x".repeat(39) + " " + &"Y".repeat(40) + " tail";
        let texts = [
            "",
            " ",
            "Accepted password for ROOT from 203.0.113.9 port 22 ssh2",
            "COPY customers TO '/tmp/c.csv'",
            "GET /index.php?id=1%27--+ HTTP/1.1",
            "Ünïcödé ŞİMDİ straße ΣΊΣΥΦΟΣ 東京タワー mixed-ÄBC_def",
            "trailing separator.",
            "a\u{00a0}b\u{2003}c",
            "٣٤ digits ① ½ x²",
            "é",
            "--",
            long.as_str(),
        ];
        for text in texts {
            assert_eq!(tokens(text), tantivy_default(text), "{text:?}");
        }
    }

    #[test]
    fn long_tokens_keep_their_position() {
        let text = format!("a {} b", "z".repeat(40));
        let got = tokens(&text);
        assert_eq!(
            got.iter().map(|t| (t.0.as_str(), t.3)).collect::<Vec<_>>(),
            [("a", 0), ("b", 2)]
        );
    }
}
