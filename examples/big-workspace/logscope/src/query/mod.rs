//! The filter language:
//!
//! ```text
//! query   := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | primary
//! primary := "(" query ")" | comparison | field        (a bare field: it is present and truthy)
//! comparison := field op literal | field "in" "[" literal ("," literal)* "]"
//! op      := "=" | "!=" | "<" | "<=" | ">" | ">=" | "~" (regex) | "contains" | "startswith"
//! literal := number | "string" | bareword | duration (250ms, 2s) | level name
//! ```
//!
//! `level >= warn and path ~ "^/api/" and not status in [404, 410]`

mod ast;
mod eval;
mod lexer;
mod parser;

pub use ast::{CompareOp, Expr, Literal};
pub use lexer::{tokenize, Token, TokenKind};

use crate::error::Result;
use crate::record::Record;

/// A compiled query: parse once, match many records.
#[derive(Debug, Clone)]
pub struct Query {
    source: String,
    expr: Expr,
}

impl Query {
    pub fn parse(source: &str) -> Result<Query> {
        let tokens = tokenize(source)?;
        let expr = parser::Parser::new(&tokens).parse()?;
        let expr = eval::compile(expr)?;
        Ok(Query { source: source.to_string(), expr })
    }

    /// A query matching everything.
    pub fn all() -> Query {
        Query { source: String::new(), expr: Expr::Literal(Literal::Bool(true)) }
    }

    pub fn matches(&self, record: &Record) -> bool {
        eval::matches(&self.expr, record)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The fields the query reads, for reports ("filtered on level, path").
    pub fn fields(&self) -> Vec<String> {
        let mut fields = Vec::new();
        self.expr.collect_fields(&mut fields);
        fields.sort();
        fields.dedup();
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Level, Record};

    fn request(status: i64, path: &str, level: Level) -> Record {
        let mut record = Record::new("test", "x").with_field("status", status).with_field("path", path);
        record.level = level;
        record
    }

    #[test]
    fn matches_comparisons_and_logic() {
        let query = Query::parse(r#"level >= warn and path ~ "^/api/" and not status in [404, 410]"#).unwrap();
        assert!(query.matches(&request(500, "/api/users", Level::Error)));
        assert!(!query.matches(&request(404, "/api/users", Level::Warn)));
        assert!(!query.matches(&request(500, "/static/x", Level::Error)));
        assert!(!query.matches(&request(200, "/api/users", Level::Info)));
        assert_eq!(query.fields(), vec!["level", "path", "status"]);
    }

    #[test]
    fn reports_errors_with_columns() {
        let err = Query::parse("status >").unwrap_err().to_string();
        assert!(err.contains("column"), "{err}");
        assert!(Query::parse(r#"path ~ "(""#).is_err());
    }

    #[test]
    fn durations_compare_in_milliseconds() {
        let query = Query::parse("duration_ms > 1.5s").unwrap();
        assert!(query.matches(&Record::new("t", "m").with_field("duration_ms", 2000.0)));
        assert!(!query.matches(&Record::new("t", "m").with_field("duration_ms", 20.0)));
    }
}
