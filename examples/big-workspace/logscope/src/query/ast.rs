//! The parsed form of a query.

use regex::Regex;

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Bool(bool),
    Number(f64),
    Str(String),
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Str(s) => write!(f, "{s:?}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    StartsWith,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Contains => "contains",
            CompareOp::StartsWith => "startswith",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    Literal(Literal),
    /// A bare field: present and truthy.
    Present(String),
    Compare { field: String, op: CompareOp, value: Literal },
    In { field: String, values: Vec<Literal> },
    /// `field ~ "pattern"`; the regex is compiled by `eval::compile`.
    Match { field: String, pattern: String, regex: Option<Regex> },
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    pub fn collect_fields(&self, into: &mut Vec<String>) {
        match self {
            Expr::Literal(_) => {}
            Expr::Present(field) | Expr::Compare { field, .. } | Expr::In { field, .. } | Expr::Match { field, .. } => {
                into.push(field.clone())
            }
            Expr::Not(inner) => inner.collect_fields(into),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.collect_fields(into);
                b.collect_fields(into);
            }
        }
    }

    /// Canonical text of the expression, fully parenthesised.
    pub fn render(&self) -> String {
        match self {
            Expr::Literal(literal) => literal.to_string(),
            Expr::Present(field) => field.clone(),
            Expr::Compare { field, op, value } => format!("{field} {} {value}", op.symbol()),
            Expr::In { field, values } => {
                format!("{field} in [{}]", values.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
            }
            Expr::Match { field, pattern, .. } => format!("{field} ~ {pattern:?}"),
            Expr::Not(inner) => format!("not {}", inner.render()),
            Expr::And(a, b) => format!("({} and {})", a.render(), b.render()),
            Expr::Or(a, b) => format!("({} or {})", a.render(), b.render()),
        }
    }
}
