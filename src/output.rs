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
            crate::progress::eprintln(line.as_ref());
        }
    }

    /// A result line on stdout in text mode (on stderr in Markdown mode, where stdout holds
    /// only the Markdown).
    pub fn line(&self, line: impl AsRef<str>) {
        if self.format == OutputFormat::Markdown {
            if !self.quiet {
                eprintln!("{}", line.as_ref());
            }
        } else if self.format == OutputFormat::Text {
            println_or_ignore(line.as_ref());
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

    /// Raw text on stdout (JUnit XML, YAML).
    pub fn raw(&self, text: &str) {
        println_or_ignore(text);
    }
}

/// Writes a line, ignoring a closed pipe (`flowctl ... | head`) instead of panicking.
fn println_or_ignore(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_handles_markup_and_control_characters() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }
}
