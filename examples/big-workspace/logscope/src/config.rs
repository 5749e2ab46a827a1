//! `logscope.toml`: what to read, how to filter, what to report.
//!
//! ```toml
//! format = "auto"            # or combined, json, logfmt, syslog, plain
//! query = 'level >= warn'
//! top = 10
//! output = "text"
//!
//! [templates]
//! enabled = true
//! similarity = 0.5
//!
//! [anomaly]
//! threshold = 3.0
//! warmup = 10
//! alpha = 0.1
//!
//! [redact]
//! emails = true
//! ips = false
//! patterns = ['token=\S+']
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::OutputFormat;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub format: String,
    pub query: String,
    pub top: usize,
    pub output: OutputFormat,
    pub threads: Option<usize>,
    pub session_idle_seconds: i64,
    pub templates: TemplateConfig,
    pub anomaly: AnomalyConfig,
    pub redact: RedactConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateConfig {
    pub enabled: bool,
    pub similarity: f64,
    pub show: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyConfig {
    pub threshold: f64,
    pub warmup: u64,
    pub alpha: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RedactConfig {
    pub emails: bool,
    pub ips: bool,
    pub patterns: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            format: "auto".into(),
            query: String::new(),
            top: 5,
            output: OutputFormat::Text,
            threads: None,
            templates: TemplateConfig::default(),
            anomaly: AnomalyConfig::default(),
            redact: RedactConfig::default(),
            session_idle_seconds: 1800,
        }
    }
}

impl Default for TemplateConfig {
    fn default() -> Self {
        TemplateConfig { enabled: true, similarity: 0.5, show: 5 }
    }
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig { threshold: 3.0, warmup: 10, alpha: 0.1 }
    }
}

impl Config {
    pub fn from_toml(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|err| Error::Config(err.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn load(path: &str) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_string(), source })?;
        Config::from_toml(&text)
    }

    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|err| Error::Config(err.to_string()))
    }

    pub fn validate(&self) -> Result<()> {
        if self.format != "auto" && crate::parse::Format::from_name(&self.format).is_none() {
            return Err(Error::Config(format!("unknown format {:?}", self.format)));
        }
        if !(0.0..=1.0).contains(&self.templates.similarity) {
            return Err(Error::Config("templates.similarity must be between 0 and 1".into()));
        }
        if self.anomaly.alpha <= 0.0 || self.anomaly.alpha > 1.0 {
            return Err(Error::Config("anomaly.alpha must be in (0, 1]".into()));
        }
        if self.top == 0 {
            return Err(Error::Config("top must be at least 1".into()));
        }
        crate::query::Query::parse(&self.query)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_validates() {
        let config = Config::from_toml("query = 'level >= warn'\ntop = 3\n[anomaly]\nthreshold = 4.0\n").unwrap();
        assert_eq!(config.top, 3);
        assert_eq!(config.anomaly.threshold, 4.0);
        assert_eq!(config.anomaly.warmup, 10);
        let again = Config::from_toml(&config.to_toml().unwrap()).unwrap();
        assert_eq!(again, config);
        assert!(Config::from_toml("format = 'xml'").is_err());
        assert!(Config::from_toml("query = 'status >'").is_err());
        assert!(Config::from_toml("colour = true").is_err());
    }
}
