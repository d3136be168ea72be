//! Rendering results for people (text), programs (JSON) and CI (JUnit XML).
//!
//! Results go to standard output; progress and errors go to standard error, so
//! `--output json > result.json` stays parseable.

use crate::models::FlowType;
use serde::Serialize;
use std::io::Write;

pub(crate) mod verify;

/// `--output`: text for people, JSON for scripts, JUnit XML for `verify`, Markdown for `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub(crate) enum OutputFormat {
    #[default]
    Text,
    Json,
    /// JUnit XML, for `verify`.
    Junit,
    /// A Markdown table, for `plan` (a CI job summary).
    Markdown,
}

/// Where a command writes. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    pub(crate) format: OutputFormat,
    pub(crate) quiet: bool,
}

impl Printer {
    pub(crate) fn new(format: OutputFormat, quiet: bool) -> Printer {
        Printer { format, quiet }
    }

    /// A progress line on stderr, for people only (silent with `--quiet` and for JSON/JUnit).
    pub(crate) fn progress(&self, line: impl AsRef<str>) {
        if !self.quiet && self.format == OutputFormat::Text {
            crate::progress::eprintln(&one_line_each(line.as_ref()));
        }
    }

    /// A result line on stdout in text mode (on stderr in Markdown mode, where stdout holds
    /// only the Markdown).
    pub(crate) fn line(&self, line: impl AsRef<str>) {
        let line = one_line_each(line.as_ref());
        if self.format == OutputFormat::Markdown {
            if !self.quiet {
                eprintln!("{line}");
            }
        } else if self.format == OutputFormat::Text {
            println_or_ignore(&line);
        }
    }

    /// A result line whose first word flowctl styles itself (a coloured PASS/FAIL tag from
    /// [`status_tag`]): only `rest`, which quotes names, is sanitized.
    pub(crate) fn tagged_line(&self, tag: &str, rest: impl AsRef<str>) {
        let rest = sanitize(rest.as_ref(), MAX_LINE);
        if self.format == OutputFormat::Markdown {
            if !self.quiet {
                eprintln!("{tag} {rest}");
            }
        } else if self.format == OutputFormat::Text {
            println_or_ignore(&format!("{tag} {rest}"));
        }
    }

    /// The JSON document on stdout in JSON mode.
    pub(crate) fn json<T: Serialize>(&self, value: &T) {
        if self.format == OutputFormat::Json {
            match serde_json::to_string_pretty(value) {
                Ok(s) => {
                    JSON_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
                    println_or_ignore(&s)
                }
                Err(e) => eprintln!("flowctl: error: cannot render JSON: {e}"),
            }
        }
    }

    /// A finding about the user's input on stderr, whatever the format (an expression's
    /// error), escaped like every other line.
    pub(crate) fn diagnostic(&self, line: impl AsRef<str>) {
        crate::progress::eprintln(&one_line_each(line.as_ref()));
    }

    /// One of several errors of a run that goes on (each failed parent flow), on stderr as
    /// the final error is shown: a name in it cannot start a line of its own.
    pub(crate) fn error(&self, err: &impl std::fmt::Display) {
        crate::progress::eprintln(&error_line(&err.to_string()));
    }

    /// Raw text on stdout (JUnit XML, YAML, Markdown, a graph). Its lines are kept, but
    /// control characters from the names in it are escaped like every other output.
    pub(crate) fn raw(&self, text: &str) {
        println_or_ignore(&sanitize_lines(text, usize::MAX));
    }
}

/// `flowctl: error: <message>`, the message escaped by [`one_line_each`].
fn error_line(message: &str) -> String {
    format!("flowctl: error: {}", one_line_each(message))
}

/// Set once a JSON document is on stdout: stdout holds one document, so an error after a
/// report (apply's results, verify's checks) stays on stderr.
static JSON_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether this process already printed a JSON document on stdout.
pub(crate) fn json_printed() -> bool {
    JSON_PRINTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes a line, ignoring a closed pipe (`flowctl ... | head`) instead of panicking.
fn println_or_ignore(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{s}");
}

/// The words text output uses for a flow type, everywhere ("common module", "inbound call
/// flow"); JSON carries the wire type (`COMMONMODULE`) instead.
pub(crate) fn type_name(flow_type: FlowType) -> &'static str {
    match flow_type {
        FlowType::Bot => "bot flow",
        FlowType::BusinessProcess => "business process flow",
        FlowType::CommonModule => "common module",
        FlowType::DigitalBot => "digital bot flow",
        FlowType::EmailSend => "email send flow",
        FlowType::InboundCall => "inbound call flow",
        FlowType::InboundChat => "inbound chat flow",
        FlowType::InboundEmail => "inbound email flow",
        FlowType::InboundShortMessage => "inbound message flow",
        FlowType::InQueueCall => "in-queue call flow",
        FlowType::InQueueEmail => "in-queue email flow",
        FlowType::InQueueShortMessage => "in-queue message flow",
        FlowType::OutboundCall => "outbound call flow",
        FlowType::SecureCall => "secure call flow",
        FlowType::Speech => "speech flow",
        FlowType::SurveyInvite => "survey invite flow",
        FlowType::Voice => "voice flow",
        FlowType::Voicemail => "voicemail flow",
        FlowType::VoiceSurvey => "voice survey flow",
        FlowType::Workflow => "workflow",
        FlowType::Workitem => "workitem flow",
    }
}

/// "a common module" / "an inbound call flow".
pub(crate) fn a_type_name(flow_type: FlowType) -> String {
    let name = type_name(flow_type);
    let article = match name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    };
    format!("{article} {name}")
}

/// Whether text on stdout may be coloured: a terminal, and no `NO_COLOR`
/// (<https://no-color.org>).
pub(crate) fn colour_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A verify status word, padded to 7 columns; green, red or yellow when `colour`.
pub(crate) fn status_tag(status: &str, colour: bool) -> String {
    let padded = format!("{status:<7}");
    if !colour {
        return padded;
    }
    let style = match status {
        "PASS" => console::Style::new().green(),
        "FAIL" => console::Style::new().red().bold(),
        _ => console::Style::new().yellow(),
    };
    style.force_styling(true).apply_to(padded).to_string()
}

/// An error as `--output json` prints it on stdout, for scripts:
/// `{"error": {"message", "hint", "exitCode"}}`.
pub(crate) fn error_json(message: &str, hint: Option<&str>, exit_code: u8) -> serde_json::Value {
    serde_json::json!({
        "error": {
            "message": message,
            "hint": hint,
            "exitCode": exit_code,
        }
    })
}

/// The longest text line printed from a result (names, messages): far above any real one.
pub(crate) const MAX_LINE: usize = 20_000;
/// The longest message quoted from a server (an error's `message`).
pub(crate) const MAX_MESSAGE: usize = 2_000;

/// Text from a server or a file, made safe to print on one line of a terminal: every
/// control character (escape sequences, carriage returns, newlines, NUL, C1) and every
/// bidirectional override is shown escaped (`\u{1b}`), so it can neither clear the screen,
/// set the title, nor forge a line; text over `max_chars` is cut and says how long it was.
/// The one helper behind error display and output.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    clean(text, max_chars, false)
}

/// What [`Printer::line`] prints: flowctl's own line breaks are kept, but a line break
/// inside a quoted name (`'a\nb'`, as a server or a file could send it) is escaped, so a
/// name can never start a line of its own. A quote opens a name where a word cannot
/// continue (after a space, `(`, `:` or at the start), and closes where a word ends; an
/// apostrophe inside a word (`don't`) is neither.
pub(crate) fn one_line_each(text: &str) -> String {
    if !text.contains('\n') {
        return sanitize_lines(text, MAX_LINE);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_name = false;
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|b| chars.get(b)).copied();
        let after = chars.get(i + 1).copied();
        let wordy = |x: Option<char>| x.is_some_and(char::is_alphanumeric);
        match c {
            '\'' if !in_name && !wordy(before) => in_name = true,
            '\'' if in_name && !wordy(after) => in_name = false,
            '\n' if in_name => {
                out.push_str("\\n");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    sanitize_lines(&out, MAX_LINE)
}

/// [`sanitize`] that keeps newlines and tabs, for multi-line messages flowctl composes
/// itself (the error chain, a report). Everything else is escaped the same way.
pub(crate) fn sanitize_lines(text: &str, max_chars: usize) -> String {
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
pub(crate) fn xml_escape(s: &str) -> String {
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
pub(crate) fn shown_url(text: &str) -> String {
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
    #[test]
    fn a_line_break_inside_a_quoted_name_cannot_start_a_line() {
        let forged = "published inbound call flow 'x\nflowctl: all good, 0 errors' (id)\nnext line";
        let shown = super::one_line_each(forged);
        assert_eq!(
            shown,
            "published inbound call flow 'x\\nflowctl: all good, 0 errors' (id)\nnext line"
        );
        // flowctl's own lines, apostrophes in words included, are kept.
        let own = "the job couldn't finish\n  Error: 'A' is locked\n  it's done";
        assert_eq!(super::one_line_each(own), own);
    }

    #[test]
    fn an_error_quoting_a_name_with_a_newline_stays_one_line() {
        let line =
            super::error_line("publishing 'Evil\nflowctl: published everything' failed: 400");
        assert_eq!(
            line,
            "flowctl: error: publishing 'Evil\\nflowctl: published everything' failed: 400"
        );
    }

    use super::*;

    #[test]
    fn text_names_every_flow_type_in_words_never_the_wire_type() {
        for t in FlowType::ALL {
            let name = type_name(t);
            assert_eq!(name, name.to_lowercase(), "{t}");
            assert!(
                name.ends_with("flow") || name == "common module",
                "{t}: {name}"
            );
        }
        assert_eq!(a_type_name(FlowType::CommonModule), "a common module");
        assert_eq!(a_type_name(FlowType::InboundCall), "an inbound call flow");
    }

    #[test]
    fn status_tags_are_coloured_only_when_asked() {
        assert_eq!(status_tag("PASS", false), "PASS   ");
        let green = status_tag("PASS", true);
        assert!(
            green.contains("\u{1b}[32m") && green.contains("PASS"),
            "{green:?}"
        );
        assert!(status_tag("FAIL", true).contains("\u{1b}[31"));
        assert!(status_tag("UNKNOWN", true).contains("\u{1b}[33m"));
    }

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
