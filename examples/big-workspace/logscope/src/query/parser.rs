//! Recursive-descent parser from tokens to [`Expr`].

use super::ast::{CompareOp, Expr, Literal};
use super::lexer::{Token, TokenKind};
use crate::error::{Error, Result};

pub struct Parser<'a> {
    tokens: &'a [Token],
    position: usize,
}

impl<'a> Parser<'a> {
    pub fn new(tokens: &'a [Token]) -> Self {
        Parser { tokens, position: 0 }
    }

    pub fn parse(mut self) -> Result<Expr> {
        if self.tokens.is_empty() {
            return Ok(Expr::Literal(Literal::Bool(true)));
        }
        let expr = self.or()?;
        if let Some(token) = self.peek() {
            return Err(Error::query(token.column, format!("unexpected {:?} after a complete query", token.kind)));
        }
        Ok(expr)
    }

    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let token = self.tokens.get(self.position);
        self.position += 1;
        token
    }

    fn end_column(&self) -> usize {
        self.tokens.last().map_or(1, |t| t.column + 1)
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.peek().map_or(false, |t| &t.kind == kind) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<()> {
        match self.next() {
            Some(token) if token.kind == kind => Ok(()),
            Some(token) => Err(Error::query(token.column, format!("expected {what}, found {:?}", token.kind))),
            None => Err(Error::query(self.end_column(), format!("expected {what} at the end"))),
        }
    }

    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.eat(&TokenKind::Or) {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.eat(&TokenKind::And) {
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.eat(&TokenKind::Not) {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr> {
        let Some(token) = self.next() else {
            return Err(Error::query(self.end_column(), "expected a condition at the end"));
        };
        match &token.kind {
            TokenKind::LParen => {
                let inner = self.or()?;
                self.expect(TokenKind::RParen, "')'")?;
                Ok(inner)
            }
            TokenKind::Ident(word) if word == "true" || word == "false" => Ok(Expr::Literal(Literal::Bool(word == "true"))),
            TokenKind::Ident(field) => self.comparison(field.clone()),
            other => Err(Error::query(token.column, format!("expected a field name, found {other:?}"))),
        }
    }

    fn comparison(&mut self, field: String) -> Result<Expr> {
        let op = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Eq) => CompareOp::Eq,
            Some(TokenKind::Ne) => CompareOp::Ne,
            Some(TokenKind::Lt) => CompareOp::Lt,
            Some(TokenKind::Le) => CompareOp::Le,
            Some(TokenKind::Gt) => CompareOp::Gt,
            Some(TokenKind::Ge) => CompareOp::Ge,
            Some(TokenKind::Contains) => CompareOp::Contains,
            Some(TokenKind::StartsWith) => CompareOp::StartsWith,
            Some(TokenKind::Match) => {
                self.position += 1;
                return match self.literal()? {
                    Literal::Str(pattern) => Ok(Expr::Match { field, pattern, regex: None }),
                    other => Ok(Expr::Match { field, pattern: other.to_string(), regex: None }),
                };
            }
            Some(TokenKind::In) => {
                self.position += 1;
                self.expect(TokenKind::LBracket, "'[' after 'in'")?;
                let mut values = vec![self.literal()?];
                while self.eat(&TokenKind::Comma) {
                    values.push(self.literal()?);
                }
                self.expect(TokenKind::RBracket, "']'")?;
                return Ok(Expr::In { field, values });
            }
            _ => return Ok(Expr::Present(field)),
        };
        self.position += 1;
        let value = self.literal()?;
        Ok(Expr::Compare { field, op, value })
    }

    fn literal(&mut self) -> Result<Literal> {
        let Some(token) = self.next() else {
            return Err(Error::query(self.end_column(), "expected a value at the end"));
        };
        Ok(match &token.kind {
            TokenKind::Number(n) | TokenKind::Duration(n) => Literal::Number(*n),
            TokenKind::Str(text) => Literal::Str(text.clone()),
            TokenKind::Ident(word) if word == "true" || word == "false" => Literal::Bool(word == "true"),
            TokenKind::Ident(word) => Literal::Str(word.clone()),
            other => return Err(Error::query(token.column, format!("expected a value, found {other:?}"))),
        })
    }
}
