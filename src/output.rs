//! Rendering results for people (text), programs (JSON) and CI (JUnit XML).
//!
//! Results go to standard output; progress and errors go to standard error, so
//! `--output json > result.json` stays parseable.

use crate::cli::OutputFormat;
use serde::Serialize;
use std::io::Write;

/// Where a command writes. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: OutputFormat,
    pub quiet: bool,
}

impl Printer {
    pub fn new(format: OutputFormat, quiet: bool) -> Printer {
        Printer { format, quiet }
    }

    /// A progress line on stderr, for people only (silent with `--quiet` and for JSON/JUnit).
    pub fn progress(&self, line: impl AsRef<str>) {
        if !self.quiet && self.format == OutputFormat::Text {
            eprintln!("{}", sanitize_lines(line.as_ref(), MAX_LINE));
        }
    }

    /// A result line on stdout in text mode (on stderr in Markdown mode, where stdout holds
    /// only the Markdown).
    pub fn line(&self, line: impl AsRef<str>) {
        let line = sanitize_lines(line.as_ref(), MAX_LINE);
        if self.format == OutputFormat::Markdown {
            if !self.quiet {
                eprintln!("{line}");
            }
        } else if self.format == OutputFormat::Text {
            println_or_ignore(&line);
        }
    }

    /// The JSON document on stdout in JSON mode.
    pub fn json<T: Serialize>(&self, value: &T) {
        if self.format == OutputFormat::Json {
            match serde_json::to_string_pretty(value) {
                Ok(s) => println_or_ignore(&s),
                Err(e) => eprintln!("flowctl: error: cannot render JSON: {e}"),
            }
        }
    }

    /// Raw text on stdout (JUnit XML, YAML, Markdown, a graph). Its lines are kept, but
    /// control characters from the names in it are escaped like every other output.
    pub fn raw(&self, text: &str) {
        println_or_ignore(&sanitize_lines(text, usize::MAX));
    }
}

/// Writes a line, ignoring a closed pipe (`flowctl ... | head`) instead of panicking.
fn println_or_ignore(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
}

/// The longest text line printed from a result (names, messages): far above any real one.
pub const MAX_LINE: usize = 20_000;
/// The longest message quoted from a server (an error's `message`).
pub const MAX_MESSAGE: usize = 2_000;

/// Text from a server or a file, made safe to print on one line of a terminal: every
/// control character (escape sequences, carriage returns, newlines, NUL, C1) and every
/// bidirectional override is shown escaped (`\u{1b}`), so it can neither clear the screen,
/// set the title, nor forge a line; text over `max_chars` is cut and says how long it was.
/// The one helper behind error display and output.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    clean(text, max_chars, false)
}

/// [`sanitize`] that keeps newlines and tabs, for multi-line messages flowctl composes
/// itself (the error chain, a report). Everything else is escaped the same way.
pub fn sanitize_lines(text: &str, max_chars: usize) -> String {
    clean(text, max_chars, true)
}

fn clean(text: &str, max_chars: usize, keep_lines: bool) -> String {
    let unsafe_char = |c: char| {
        (c.is_control() && !(keep_lines && matches!(c, '\n' | '\t')))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if text.chars().count() <= max_chars && !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_add(64)));
    let mut shown = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total = total.saturating_add(1);
        if shown >= max_chars {
            continue;
        }
        shown = shown.saturating_add(1);
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    if total > shown {
        out.push_str(&format!(
            "… (cut: {total} characters in all, {shown} shown)"
        ));
    }
    out
}

/// Escapes text for XML attribute values and element content.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A URL as it may be printed: no user info, no query, no fragment, control characters
/// escaped. Unparseable text is cut before any `@`, `?` or `#`.
pub fn shown_url(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            sanitize(u.as_str(), 300)
        }
        Err(_) => {
            let rest = text.rsplit('@').next().unwrap_or_default();
            let cut = rest.split(['?', '#']).next().unwrap_or_default();
            sanitize(cut, 300)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_cannot_drive_the_terminal_or_forge_a_line() {
        let hostile = "boom\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nflowctl: all good, 0 errors\u{202E}";
        let shown = sanitize(hostile, MAX_MESSAGE);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert!(shown.contains("\\u{1b}[2J"), "{shown}");
        assert!(!shown.contains('\n'));
        assert!(!shown.contains('\u{202E}'));
        // Multi-line text keeps its lines but not the rest.
        let lines = sanitize_lines("a\nb\u{1b}c", 100);
        assert_eq!(lines, "a\nb\\u{1b}c");
    }

    #[test]
    fn long_text_is_cut_and_says_how_long_it_was() {
        let long = "é".repeat(5000);
        let shown = sanitize(&long, 100);
        assert!(shown.starts_with(&"é".repeat(100)));
        assert!(
            shown.ends_with("(cut: 5000 characters in all, 100 shown)"),
            "{shown}"
        );
        assert_eq!(sanitize("plain", 100), "plain");
    }

    #[test]
    fn xml_escape_handles_markup_and_control_characters() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }
}
