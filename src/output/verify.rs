//! `flowctl verify`'s report: its checks, and how it is rendered (text, JSON, JUnit XML).

use super::{xml_escape, OutputFormat, Printer};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CheckStatus {
    Pass,
    Fail,
    Unknown,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Check {
    /// What is checked: `shared flow 'X'`, `parent 'Y'`, `queue 'Z'`.
    pub(crate) subject: String,
    /// The property: `exists`, `published`, `calls the shared flow`, ...
    pub(crate) check: String,
    pub(crate) status: CheckStatus,
    pub(crate) detail: String,
    /// The command or step that fixes a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) ok: bool,
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) unknown: usize,
    pub(crate) checks: Vec<Check>,
}

impl Report {
    pub(crate) fn from_checks(checks: Vec<Check>) -> Report {
        let count = |s| checks.iter().filter(|c| c.status == s).count();
        let (passed, failed, unknown) = (
            count(CheckStatus::Pass),
            count(CheckStatus::Fail),
            count(CheckStatus::Unknown),
        );
        Report {
            ok: failed == 0 && unknown == 0,
            passed,
            failed,
            unknown,
            checks,
        }
    }
}

pub fn check(
    subject: &str,
    name: &str,
    status: CheckStatus,
    detail: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        subject: subject.to_string(),
        check: name.to_string(),
        status,
        detail: detail.into(),
        fix,
    }
}

pub(crate) fn print_report(report: &Report, out: Printer) {
    match out.format {
        OutputFormat::Json => out.json(report),
        OutputFormat::Junit => out.raw(&junit(report)),
        OutputFormat::Text | OutputFormat::Markdown => {
            let colour = crate::output::colour_stdout();
            for c in &report.checks {
                let tag = crate::output::status_tag(
                    match c.status {
                        CheckStatus::Pass => "PASS",
                        CheckStatus::Fail => "FAIL",
                        CheckStatus::Unknown => "UNKNOWN",
                    },
                    colour,
                );
                out.tagged_line(&tag, format!("{}: {}: {}", c.subject, c.check, c.detail));
                if let (Some(fix), false) = (&c.fix, c.status == CheckStatus::Pass) {
                    out.line(format!("        fix: {fix}"));
                }
            }
            out.line(format!(
                "verify: {} checks passed, {} failed, {} unknown",
                report.passed, report.failed, report.unknown
            ));
        }
    }
}

/// JUnit XML: one testcase per check; a failed or unknown check is a `<failure>` whose
/// `type` says which, so CI shows both as red (flowctl exits 1 for both).
pub(crate) fn junit(report: &Report) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = report.failed + report.unknown;
    xml.push_str(&format!(
        "<testsuites name=\"flowctl verify\" tests=\"{}\" failures=\"{failures}\">\n  <testsuite name=\"flowctl verify\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        report.checks.len(),
        report.checks.len()
    ));
    for c in &report.checks {
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&c.subject),
            xml_escape(&c.check)
        ));
        match c.status {
            CheckStatus::Pass => xml.push_str("/>\n"),
            status => {
                let kind = if status == CheckStatus::Fail {
                    "fail"
                } else {
                    "unknown"
                };
                let mut body = c.detail.clone();
                if let Some(fix) = &c.fix {
                    body.push_str(&format!("\nfix: {fix}"));
                }
                xml.push_str(&format!(
                    ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml_escape(&c.detail),
                    xml_escape(&body)
                ));
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_not_a_pass() {
        let r = Report::from_checks(vec![
            check("a", "x", CheckStatus::Pass, "", None),
            check("b", "y", CheckStatus::Unknown, "", None),
        ]);
        assert!(!r.ok);
        assert_eq!((r.passed, r.failed, r.unknown), (1, 0, 1));
    }

    #[test]
    fn junit_marks_failures_and_unknowns_and_escapes() {
        let r = Report::from_checks(vec![
            check("parent 'A&B'", "exists", CheckStatus::Pass, "", None),
            check(
                "parent 'C'",
                "calls <x>",
                CheckStatus::Fail,
                "missing",
                Some("flowctl create-parent".into()),
            ),
            check("parent 'D'", "calls", CheckStatus::Unknown, "index", None),
        ]);
        let xml = junit(&r);
        assert!(xml.contains("classname=\"parent &apos;A&amp;B&apos;\""));
        assert!(xml.contains("name=\"calls &lt;x&gt;\""));
        assert!(xml.contains("<failure type=\"fail\" message=\"missing\">missing\nfix: flowctl create-parent</failure>"));
        assert!(xml.contains("<failure type=\"unknown\""));
        assert!(xml.contains("tests=\"3\" failures=\"2\""));
    }
}
