//! Message template mining, after Drain (He et al., 2017): messages are tokenised, variable
//! tokens (numbers, ids, addresses) are masked, and messages of the same length whose tokens
//! mostly agree are merged into one template with `<*>` where they differ.

use std::collections::HashMap;

use once_cell::sync::Lazy;
use regex::Regex;
use serde::Serialize;

static MASKS: Lazy<Vec<(Regex, &'static str)>> = Lazy::new(|| {
    [
        (r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", "<uuid>"),
        (r"^\d{1,3}(\.\d{1,3}){3}(:\d+)?$", "<ip>"),
        (r"^0x[0-9a-fA-F]+$", "<hex>"),
        (r"^[0-9a-fA-F]{12,}$", "<hex>"),
        (r"^-?\d+(\.\d+)?(ms|s|us|ns|%|kb|mb|b)?$", "<num>"),
        (r"^[\w.+-]+@[\w-]+\.[\w.-]+$", "<email>"),
        (r"^/[\w./-]*\d[\w./-]*$", "<path>"),
    ]
    .into_iter()
    .map(|(pattern, mask)| (Regex::new(pattern).expect("mask patterns compile"), mask))
    .collect()
});

/// Splits a message into tokens and masks the variable ones.
pub fn tokenize(message: &str) -> Vec<String> {
    message
        .split_whitespace()
        .map(|token| {
            let bare = token.trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')' | '"' | '\'' | '[' | ']'));
            for (regex, mask) in MASKS.iter() {
                if regex.is_match(bare) {
                    return (*mask).to_string();
                }
            }
            token.to_string()
        })
        .collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct Template {
    pub id: usize,
    pub tokens: Vec<String>,
    pub count: u64,
    /// One original message, for context.
    pub example: String,
}

impl Template {
    pub fn text(&self) -> String {
        self.tokens.join(" ")
    }

    fn similarity(&self, tokens: &[String]) -> f64 {
        let same = self.tokens.iter().zip(tokens).filter(|(a, b)| a == b || a.as_str() == "<*>").count();
        same as f64 / tokens.len().max(1) as f64
    }

    fn absorb(&mut self, tokens: &[String]) {
        for (mine, theirs) in self.tokens.iter_mut().zip(tokens) {
            if mine != theirs {
                *mine = "<*>".to_string();
            }
        }
        self.count += 1;
    }
}

/// The miner: templates grouped by token count and first token (Drain's fixed-depth tree).
#[derive(Debug)]
pub struct Miner {
    groups: HashMap<(usize, String), Vec<usize>>,
    templates: Vec<Template>,
    threshold: f64,
    max_per_group: usize,
}

impl Default for Miner {
    fn default() -> Self {
        Miner::new(0.5)
    }
}

impl Miner {
    pub fn new(threshold: f64) -> Self {
        Miner { groups: HashMap::new(), templates: Vec::new(), threshold, max_per_group: 64 }
    }

    /// Adds a message; the id of the template it joined (or started).
    pub fn add(&mut self, message: &str) -> usize {
        let tokens = tokenize(message);
        let head = tokens.first().map_or_else(String::new, |t| if t.starts_with('<') { "<*>".into() } else { t.clone() });
        let key = (tokens.len(), head);
        let candidates = self.groups.entry(key).or_default();
        let mut best: Option<(usize, f64)> = None;
        for &id in candidates.iter() {
            let score = self.templates[id].similarity(&tokens);
            if score >= self.threshold && best.map_or(true, |(_, s)| score > s) {
                best = Some((id, score));
            }
        }
        if let Some((id, _)) = best {
            self.templates[id].absorb(&tokens);
            return id;
        }
        let id = self.templates.len();
        if candidates.len() < self.max_per_group {
            candidates.push(id);
        }
        self.templates.push(Template { id, tokens, count: 1, example: message.to_string() });
        id
    }

    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// The `n` most frequent templates.
    pub fn top(&self, n: usize) -> Vec<&Template> {
        let mut sorted: Vec<&Template> = self.templates.iter().collect();
        sorted.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
        sorted.truncate(n);
        sorted
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_messages_that_differ_in_values() {
        let mut miner = Miner::default();
        let a = miner.add("user 42 logged in from 10.0.0.1");
        let b = miner.add("user 7 logged in from 10.0.0.2");
        let c = miner.add("disk /dev/sda1 is 91% full");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(miner.templates()[a].text(), "user <num> logged in from <ip>");
        assert_eq!(miner.templates()[a].count, 2);
    }

    #[test]
    fn marks_differing_words() {
        let mut miner = Miner::default();
        miner.add("connection to db-primary closed");
        let id = miner.add("connection to db-replica closed");
        assert_eq!(miner.templates()[id].text(), "connection to <*> closed");
    }
}
