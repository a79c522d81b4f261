//! The building blocks shared by every report: findings and their severity.

use std::fmt;

use serde::Serialize;

/// How much a finding matters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; nothing to change.
    Info,
    /// Works today, but likely to break or to confuse.
    Warning,
    /// Refused, broken or misconfigured: something must change.
    Problem,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Problem => "PROBLEM",
        })
    }
}

/// One thing the doctor noticed, with what to do about it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// A stable identifier (`expired`, `graph_token`, `v1_token`).
    pub code: &'static str,
    /// What was found and what to change, in one sentence.
    pub message: String,
}

impl Finding {
    pub(crate) fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Self { severity, code, message: message.into() }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}", self.severity, self.code, self.message)
    }
}

/// Writes `label  value` with the labels aligned.
pub(crate) fn line(
    f: &mut fmt::Formatter<'_>,
    label: &str,
    value: impl fmt::Display,
) -> fmt::Result {
    writeln!(f, "  {label:<16}{value}")
}

pub(crate) use entra_core::words::error_with_sources as chain;

/// `a, b, c`, or `(none)`.
pub(crate) fn list(items: &[String]) -> String {
    if items.is_empty() { "(none)".to_owned() } else { items.join(", ") }
}
