//! Placeholders as lint sees them: a `{{key}}` inside a YAML comment is text nobody reads,
//! and a `{{key}}` left unreplaced is reported at its own line and column.

/// `text` with the `{{` of every placeholder inside a comment turned into `{ `, so that no
/// scanner takes it for a placeholder. Lengths, lines and columns are unchanged, and a
/// comment is never read by YAML, so the flow is the same.
///
/// A comment starts at a `#` at the start of a line or after a space or tab, outside a
/// quoted scalar on that line. (A `#` inside a multi-line quoted scalar or a block scalar
/// (`|`) is taken as a comment too: at worst a placeholder there goes unreported, never a
/// false alarm.)
pub(crate) fn without_comment_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match comment_start(line) {
            Some(at) => {
                let (code, comment) = line.split_at(at);
                out.push_str(code);
                out.push_str(&comment.replace("{{", "{ "));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The byte offset of the `#` that starts a comment on `line`, if any.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => {
                // `''` inside single quotes is an escaped quote.
                if q == '\'' && chars.peek().map(|(_, n)| *n) == Some('\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None => {
                let at_token_start =
                    prev.is_none_or(|p| matches!(p, ' ' | '\t' | ':' | '-' | '[' | '{' | ','));
                if (c == '"' || c == '\'') && at_token_start {
                    quote = Some(c);
                } else if c == '#' && prev.is_none_or(|p| p == ' ' || p == '\t') {
                    return Some(i);
                }
            }
        }
        prev = Some(c);
    }
    None
}

/// The 1-based column of the first `{{ key }}` on 1-based `line` of `text` (1 if none).
pub(crate) fn column(text: &str, line: usize, key: &str) -> usize {
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else {
        return 1;
    };
    let mut from = 0;
    while let Some(at) = l.get(from..).and_then(|rest| rest.find("{{")) {
        let start = from + at;
        let inner = l.get(start + 2..).unwrap_or("");
        let matches = inner.split_once("}}").is_none_or(|(k, _)| k.trim() == key);
        if matches {
            return l.get(..start).map_or(0, |p| p.chars().count()) + 1;
        }
        from = start + 2;
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_in_comments_are_hidden_and_others_kept() {
        let text = "# fills in {{division}}\na: \"{{x}}\" # and {{y}}\nb: 'it''s # {{z}}'\nc: x#{{w}}\n  # {{v}}\n";
        let out = without_comment_placeholders(text);
        assert_eq!(
            out,
            "# fills in { division}}\na: \"{{x}}\" # and { y}}\nb: 'it''s # {{z}}'\nc: x#{{w}}\n  # { v}}\n"
        );
        assert_eq!(out.len(), text.len());
        assert_eq!(crate::flow::placeholder::keys(&out), ["x", "z", "w"]);
    }

    #[test]
    fn a_placeholder_is_found_at_its_column() {
        let text = "a: 1\n  name: \"{{ one }} and {{two}}\"\n";
        assert_eq!(column(text, 2, "two"), 24);
        assert_eq!(column(text, 2, "one"), 10);
        assert_eq!(column(text, 1, "one"), 1);
        assert_eq!(column(text, 9, "one"), 1);
    }
}
