//! `{{ key }}` placeholders: the one scanner behind manifest values, users' Architect files
//! and `lint`. A key is the text between `{{` and `}}`, trimmed; an unclosed `{{` ends the
//! scan and stays as it is.

/// What [`replace`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replaced {
    /// The text with every known placeholder replaced.
    pub(crate) text: String,
    /// The placeholders `lookup` did not know, first use first, each with its 1-based line.
    pub(crate) missing: Vec<(String, usize)>,
    /// The keys replaced, first use first.
    pub(crate) used: Vec<String>,
}

impl Replaced {
    /// The keys of [`Replaced::missing`], without their lines.
    pub(crate) fn missing_keys(&self) -> Vec<String> {
        self.missing.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// Replaces every `{{ key }}` that `lookup` knows; an unknown one stays as written.
pub(crate) fn replace<S: AsRef<str>>(text: &str, lookup: impl Fn(&str) -> Option<S>) -> Replaced {
    let mut out = String::with_capacity(text.len());
    let mut missing: Vec<(String, usize)> = Vec::new();
    let mut used: Vec<String> = Vec::new();
    let mut rest = text;
    let mut line = 1usize;
    while let Some((before, after_open)) = rest.split_once("{{") {
        let Some((inner, after)) = after_open.split_once("}}") else {
            break;
        };
        out.push_str(before);
        line += before.matches('\n').count();
        let key = inner.trim();
        match lookup(key) {
            Some(v) => {
                out.push_str(v.as_ref());
                if !used.iter().any(|k| k == key) {
                    used.push(key.to_string());
                }
            }
            None => {
                if !missing.iter().any(|(k, _)| k == key) {
                    missing.push((key.to_string(), line));
                }
                out.push_str("{{");
                out.push_str(inner);
                out.push_str("}}");
            }
        }
        line += inner.matches('\n').count();
        rest = after;
    }
    out.push_str(rest);
    Replaced {
        text: out,
        missing,
        used,
    }
}

/// The keys of every `{{ key }}` in `text`, first use first, unique; an empty key is none.
pub(crate) fn keys(text: &str) -> Vec<String> {
    replace(text, |_| None::<&str>)
        .missing
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_replaced_and_unknown_ones_kept_with_their_line() {
        let r = replace("a: {{ x }}\nb: {{y}}\nc: {{x}}-{{ z }}", |k| {
            (k == "x").then_some("1")
        });
        assert_eq!(r.text, "a: 1\nb: {{y}}\nc: 1-{{ z }}");
        assert_eq!(r.used, ["x"]);
        assert_eq!(r.missing, [("y".to_string(), 2), ("z".to_string(), 3)]);
    }

    #[test]
    fn an_unclosed_placeholder_ends_the_scan() {
        let r = replace("{{a}} {{b", |_| Some("v".to_string()));
        assert_eq!(r.text, "v {{b");
    }

    #[test]
    fn keys_are_unique_in_order_and_never_empty() {
        assert_eq!(keys("x {{ a }} {{b}} {{a}} {{ }}"), ["a", "b"]);
    }
}
