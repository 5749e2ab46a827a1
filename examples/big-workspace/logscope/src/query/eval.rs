//! Evaluating a query against a record.

use std::cmp::Ordering;

use regex::Regex;

use super::ast::{CompareOp, Expr, Literal};
use crate::error::{Error, Result};
use crate::record::{Level, Record, Value};

/// Compiles the regexes of `~` comparisons (once, not per record).
pub fn compile(expr: Expr) -> Result<Expr> {
    Ok(match expr {
        Expr::Match { field, pattern, .. } => {
            let regex = Regex::new(&pattern).map_err(|err| Error::query(1, format!("bad regex {pattern:?}: {err}")))?;
            Expr::Match { field, pattern, regex: Some(regex) }
        }
        Expr::Not(inner) => Expr::Not(Box::new(compile(*inner)?)),
        Expr::And(a, b) => Expr::And(Box::new(compile(*a)?), Box::new(compile(*b)?)),
        Expr::Or(a, b) => Expr::Or(Box::new(compile(*a)?), Box::new(compile(*b)?)),
        other => other,
    })
}

pub fn matches(expr: &Expr, record: &Record) -> bool {
    match expr {
        Expr::Literal(Literal::Bool(b)) => *b,
        Expr::Literal(_) => true,
        Expr::Present(field) => record.get(field).map_or(false, |v| v.is_truthy()),
        Expr::Compare { field, op, value } => compare(record, field, *op, value),
        Expr::In { field, values } => values.iter().any(|value| compare(record, field, CompareOp::Eq, value)),
        Expr::Match { field, regex, .. } => match (record.get(field), regex) {
            (Some(found), Some(regex)) => regex.is_match(&found.to_string()),
            _ => false,
        },
        Expr::Not(inner) => !matches(inner, record),
        Expr::And(a, b) => matches(a, record) && matches(b, record),
        Expr::Or(a, b) => matches(a, record) || matches(b, record),
    }
}

fn compare(record: &Record, field: &str, op: CompareOp, literal: &Literal) -> bool {
    // Levels compare by severity, not alphabetically.
    if field == "level" {
        if let Literal::Str(name) = literal {
            if let Some(wanted) = Level::parse(name) {
                return ordering_holds(record.level.cmp(&wanted), op);
            }
        }
    }
    let Some(found) = record.get(field) else {
        return op == CompareOp::Ne;
    };
    match op {
        CompareOp::Contains => found.to_string().contains(&literal_text(literal)),
        CompareOp::StartsWith => found.to_string().starts_with(&literal_text(literal)),
        _ => {
            let wanted = match literal {
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Number(n) => Value::Float(*n),
                Literal::Str(s) => Value::Str(s.clone()),
            };
            if let (Value::Bool(a), Value::Bool(b)) = (&found, &wanted) {
                return ordering_holds(a.cmp(b), op);
            }
            match found.compare(&wanted) {
                Some(ordering) => ordering_holds(ordering, op),
                None => false,
            }
        }
    }
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ordering_holds(ordering: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Contains | CompareOp::StartsWith => false,
    }
}
