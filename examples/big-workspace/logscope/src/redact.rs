//! Redaction of personal data and secrets before records leave the machine.

use once_cell::sync::Lazy;
use regex::Regex;

use crate::config::RedactConfig;
use crate::error::{Error, Result};
use crate::record::{Record, Value};

static EMAIL: Lazy<Regex> = Lazy::new(|| Regex::new(r"[\w.+-]+@[\w-]+\.[\w.-]+").expect("email pattern"));
static IPV4: Lazy<Regex> = Lazy::new(|| Regex::new(r"\b\d{1,3}(?:\.\d{1,3}){3}\b").expect("ipv4 pattern"));
static SECRETS: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r#"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization)(["']?\s*[:=]\s*["']?)[^\s"'&]+"#)
        .expect("secret pattern")
});

#[derive(Debug)]
pub struct Redactor {
    emails: bool,
    ips: bool,
    extra: Vec<Regex>,
}

impl Redactor {
    pub fn new(config: &RedactConfig) -> Result<Self> {
        let extra = config
            .patterns
            .iter()
            .map(|p| Regex::new(p).map_err(|err| Error::Config(format!("redact pattern {p:?}: {err}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Redactor { emails: config.emails, ips: config.ips, extra })
    }

    /// Secrets are always masked; emails, IPs and extra patterns as configured.
    pub fn text(&self, text: &str) -> String {
        let mut out = SECRETS.replace_all(text, "${1}${2}[redacted]").into_owned();
        if self.emails {
            out = EMAIL.replace_all(&out, "[email]").into_owned();
        }
        if self.ips {
            out = IPV4.replace_all(&out, "[ip]").into_owned();
        }
        for pattern in &self.extra {
            out = pattern.replace_all(&out, "[redacted]").into_owned();
        }
        out
    }

    pub fn record(&self, record: &mut Record) {
        record.message = self.text(&record.message);
        for value in record.fields.values_mut() {
            if let Value::Str(text) = value {
                let redacted = self.text(text);
                if redacted != *text {
                    *text = redacted;
                }
            }
        }
        if self.ips {
            if let Some(source) = &record.source {
                record.source = Some(IPV4.replace_all(source, "[ip]").into_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_always_and_emails_when_asked() {
        let redactor = Redactor::new(&RedactConfig { emails: true, ips: false, patterns: vec![] }).unwrap();
        assert_eq!(redactor.text("login bob@example.com token=abc123 ok"), "login [email] token=[redacted] ok");
        assert_eq!(redactor.text("from 10.0.0.1"), "from 10.0.0.1");
    }
}
