//! Tokens of the filter language.

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Str(String),
    Number(f64),
    /// A number with a time unit, in milliseconds.
    Duration(f64),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    And,
    Or,
    Not,
    In,
    Contains,
    StartsWith,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    /// 1-based column of the token's first character.
    pub column: usize,
}

pub fn tokenize(source: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let (kind, width) = match (c, two.as_str()) {
            (_, "!=") => (TokenKind::Ne, 2),
            (_, "<=") => (TokenKind::Le, 2),
            (_, ">=") => (TokenKind::Ge, 2),
            (_, "==") => (TokenKind::Eq, 2),
            (_, "&&") => (TokenKind::And, 2),
            (_, "||") => (TokenKind::Or, 2),
            ('=', _) => (TokenKind::Eq, 1),
            ('<', _) => (TokenKind::Lt, 1),
            ('>', _) => (TokenKind::Gt, 1),
            ('~', _) => (TokenKind::Match, 1),
            ('!', _) => (TokenKind::Not, 1),
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            ('[', _) => (TokenKind::LBracket, 1),
            (']', _) => (TokenKind::RBracket, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('"', _) | ('\'', _) => {
                let (text, width) = read_string(&chars[i..], column)?;
                (TokenKind::Str(text), width)
            }
            _ if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).map_or(false, |d| d.is_ascii_digit())) => {
                read_number(&chars[i..], column)?
            }
            _ if is_ident_start(c) => {
                let width = chars[i..].iter().take_while(|c| is_ident_char(**c)).count();
                let word: String = chars[i..i + width].iter().collect();
                let kind = match word.to_ascii_lowercase().as_str() {
                    "and" => TokenKind::And,
                    "or" => TokenKind::Or,
                    "not" => TokenKind::Not,
                    "in" => TokenKind::In,
                    "contains" => TokenKind::Contains,
                    "startswith" | "starts_with" => TokenKind::StartsWith,
                    _ => TokenKind::Ident(word),
                };
                (kind, width)
            }
            _ => return Err(Error::query(column, format!("unexpected character {c:?}"))),
        };
        tokens.push(Token { kind, column });
        i += width;
    }
    Ok(tokens)
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '@'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '-' | '/')
}

fn read_string(chars: &[char], column: usize) -> Result<(String, usize)> {
    let quote = chars[0];
    let mut text = String::new();
    let mut i = 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                let escaped = chars[i + 1];
                // Keep regex escapes (`\d`, `\.`) intact; only quotes and backslashes are ours.
                if escaped != quote && escaped != '\\' {
                    text.push('\\');
                }
                text.push(escaped);
                i += 2;
            }
            c if c == quote => return Ok((text, i + 1)),
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(Error::query(column, "unterminated string"))
}

fn read_number(chars: &[char], column: usize) -> Result<(TokenKind, usize)> {
    let mut width = 0;
    if chars[0] == '-' {
        width = 1;
    }
    width += chars[width..].iter().take_while(|c| c.is_ascii_digit() || **c == '.' || **c == '_').count();
    let digits: String = chars[..width].iter().filter(|c| **c != '_').collect();
    let number: f64 = digits.parse().map_err(|_| Error::query(column, format!("bad number {digits:?}")))?;
    let unit_width = chars[width..].iter().take_while(|c| c.is_ascii_alphabetic() || **c == 'µ').count();
    if unit_width == 0 {
        return Ok((TokenKind::Number(number), width));
    }
    let unit: String = chars[width..width + unit_width].iter().collect();
    let factor = match unit.as_str() {
        "ns" => 1e-6,
        "us" | "µs" => 1e-3,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        "kb" | "KB" | "k" => return Ok((TokenKind::Number(number * 1024.0), width + unit_width)),
        "mb" | "MB" => return Ok((TokenKind::Number(number * 1024.0 * 1024.0), width + unit_width)),
        _ => return Err(Error::query(column, format!("unknown unit {unit:?} (use ms, s, m, h, kb, mb)"))),
    };
    Ok((TokenKind::Duration(number * factor), width + unit_width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_operators_and_units() {
        let tokens = tokenize(r#"a>=2s and b!="x" or c ~ 'y\d'"#).unwrap();
        let kinds: Vec<TokenKind> = tokens.into_iter().map(|t| t.kind).collect();
        assert_eq!(kinds[1], TokenKind::Ge);
        assert_eq!(kinds[2], TokenKind::Duration(2000.0));
        assert_eq!(kinds[5], TokenKind::Ne);
        assert_eq!(kinds[10], TokenKind::Str("y\\d".into()));
    }
}
