//! What every check returns: findings with a status, a one-line summary, optional detail
//! lines and, for ⚠ and ✗, the fix; and the plain-text lines the CLI prints for them.

use serde::Serialize;

/// Which check a finding comes from. Serialised in kebab case (`key-match`), the names
/// `cctoken doctor --json` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CheckId {
    /// The certificate: subject and thumbprints.
    Certificate,
    /// The certificate's validity period.
    CertificateExpiry,
    /// Whether the private key belongs to the certificate.
    KeyMatch,
    /// The authority's OpenID configuration: the tenant exists, its token endpoint is ours.
    Tenant,
    /// The skew between the endpoint's `Date` header and the local clock.
    Clock,
    /// Acquiring a token.
    Token,
    /// The token could not be decoded (opaque or malformed), so no claim was checked.
    Claims,
    /// The token's `aud` claim against the requested resource.
    Audience,
    /// The token's `tid` claim against the tenant.
    TokenTenant,
    /// The token's `appid`/`azp` claim against the client id.
    TokenClient,
    /// The token's `roles` claim: application permissions granted.
    Roles,
    /// The token's `iat`/`nbf`/`exp` claims.
    TokenLifetime,
    /// `--call <url>`: what the protected API answered.
    Call,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// ✓ Nothing to do.
    Ok,
    /// ⚠ Works today, or could not be told; the fix says what to look at.
    Warn,
    /// ✗ Token requests fail (or will) until the fix is applied.
    Fail,
    /// – The check does not apply here (a generic token endpoint, a client secret).
    Skipped,
}

impl Status {
    /// The mark printed at the start of a finding's line.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "⚠",
            Status::Fail => "✗",
            Status::Skipped => "–",
        }
    }
}

/// Which exit code a failure maps to, as `cctoken token` uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitClass {
    /// 2: a usage or configuration error on this side.
    Configuration,
    /// 3: the identity provider refused.
    Refused,
    /// 4: worth retrying later (network, timeout, throttled, 5xx).
    Transient,
}

impl ExitClass {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Configuration => 2,
            ExitClass::Refused => 3,
            ExitClass::Transient => 4,
        }
    }
}

/// One line of the doctor's report. Never holds a secret: checks build summaries from
/// certificate fields, claims and provider messages, never from key or token text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The check that made it.
    pub check: CheckId,
    /// ✓, ⚠ or ✗.
    pub status: Status,
    /// One line: what was found.
    pub summary: String,
    /// Further facts, one per line (thumbprints, AADSTS numbers, correlation id).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// What to do about a ⚠ or ✗.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// For a ✗: which exit code it stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitClass>,
}

impl Finding {
    /// A ✓ finding.
    pub fn ok(check: CheckId, summary: impl Into<String>) -> Self {
        Finding {
            check,
            status: Status::Ok,
            summary: summary.into(),
            details: Vec::new(),
            fix: None,
            exit: None,
        }
    }

    /// A – finding: the check does not apply, and `summary` says why.
    pub fn skipped(check: CheckId, summary: impl Into<String>) -> Self {
        Finding {
            status: Status::Skipped,
            ..Finding::ok(check, summary)
        }
    }

    /// A ⚠ finding with its fix.
    pub fn warn(check: CheckId, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            status: Status::Warn,
            fix: Some(fix.into()),
            ..Finding::ok(check, summary)
        }
    }

    /// A ✗ finding with its fix and exit class.
    pub fn fail(
        check: CheckId,
        exit: ExitClass,
        summary: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            status: Status::Fail,
            fix: Some(fix.into()),
            exit: Some(exit),
            ..Finding::ok(check, summary)
        }
    }

    /// Adds detail lines.
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }
}

/// The plain-text lines of one finding: the mark and summary, each detail indented, and
/// for ⚠ and ✗ the fix on a line of its own (a ✓ has nothing to fix, so none is printed
/// even if one was set).
pub fn render_finding(finding: &Finding) -> String {
    let mut out = format!("{} {}", finding.status.mark(), finding.summary);
    for detail in &finding.details {
        out.push_str("\n    ");
        out.push_str(detail);
    }
    if matches!(finding.status, Status::Warn | Status::Fail) {
        if let Some(fix) = &finding.fix {
            out.push_str("\n  → ");
            out.push_str(fix);
        }
    }
    out
}

/// Every finding rendered, one after the other, ending with a newline.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        out.push_str(&render_finding(finding));
        out.push('\n');
    }
    out
}

/// The exit code of a whole report: 0 when nothing failed, else the class of the first ✗.
/// Checks run in order of cause (settings, certificate, tenant, clock, token, claims), so the
/// first failure is the one to fix first and the one whose class describes the run.
pub fn exit_code(findings: &[Finding]) -> u8 {
    findings
        .iter()
        .find(|finding| finding.status == Status::Fail)
        .map_or(0, |finding| {
            finding.exit.unwrap_or(ExitClass::Configuration).code()
        })
}

/// Text from outside (certificate names, claims, provider messages) made safe to print on one
/// terminal line: control characters (escape sequences, line breaks) become `?`, and anything
/// past `max_chars` is cut with an ellipsis.
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (index, character) in text.chars().enumerate() {
        if index == max_chars {
            out.push('…');
            break;
        }
        out.push(if character.is_control() {
            '?'
        } else {
            character
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_marks_details_and_fixes() {
        let findings = [
            Finding::ok(CheckId::Clock, "clock within 3 s of the server"),
            Finding::warn(CheckId::Roles, "no roles", "grant consent")
                .with_details(vec!["aud https://graph.microsoft.com".into()]),
            Finding::fail(
                CheckId::KeyMatch,
                ExitClass::Configuration,
                "mismatch",
                "upload",
            ),
        ];
        assert_eq!(
            render(&findings),
            "✓ clock within 3 s of the server\n⚠ no roles\n    aud https://graph.microsoft.com\n  → grant consent\n✗ mismatch\n  → upload\n"
        );
        let mut ok_with_fix = Finding::ok(CheckId::Token, "fine");
        ok_with_fix.fix = Some("ignored".into());
        assert_eq!(render_finding(&ok_with_fix), "✓ fine");
        let mut skipped = Finding::skipped(CheckId::Tenant, "not Entra");
        skipped.fix = Some("ignored".into());
        assert_eq!(render_finding(&skipped), "– not Entra");
    }

    #[test]
    fn serialises_for_json_output() {
        let finding = Finding::fail(CheckId::TokenTenant, ExitClass::Refused, "s", "f");
        assert_eq!(
            serde_json::to_value(&finding).unwrap(),
            serde_json::json!({"check":"token-tenant","status":"fail","summary":"s","fix":"f","exit":"refused"})
        );
        assert_eq!(
            serde_json::to_value(Finding::ok(CheckId::KeyMatch, "s")).unwrap(),
            serde_json::json!({"check":"key-match","status":"ok","summary":"s"})
        );
        assert_eq!(
            serde_json::to_value(Finding::skipped(CheckId::Call, "s")).unwrap(),
            serde_json::json!({"check":"call","status":"skipped","summary":"s"})
        );
    }

    #[test]
    fn exit_code_is_the_first_failures() {
        let warn = Finding::warn(CheckId::Clock, "s", "f");
        let refused = Finding::fail(CheckId::Token, ExitClass::Refused, "s", "f");
        let network = Finding::fail(CheckId::Tenant, ExitClass::Transient, "s", "f");
        assert_eq!(exit_code(&[]), 0);
        assert_eq!(exit_code(std::slice::from_ref(&warn)), 0);
        assert_eq!(exit_code(&[Finding::skipped(CheckId::Tenant, "s")]), 0);
        assert_eq!(exit_code(&[warn, network.clone(), refused.clone()]), 4);
        assert_eq!(exit_code(&[refused, network]), 3);
    }

    #[test]
    fn printable_strips_controls_and_caps() {
        assert_eq!(printable("a\u{1b}[31mb\nc", 100), "a?[31mb?c");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert_eq!(printable("abc", 3), "abc");
        assert_eq!(printable("", 0), "");
    }
}
