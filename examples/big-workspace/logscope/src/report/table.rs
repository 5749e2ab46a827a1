//! Plain-text tables that line up with wide characters (CJK, emoji) too.

use unicode_width::UnicodeWidthStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Clone, Debug)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    aligns: Vec<Align>,
    max_widths: Vec<Option<usize>>,
}

impl Table {
    pub fn new(headers: Vec<&str>) -> Self {
        let columns = headers.len();
        Table {
            headers: headers.into_iter().map(String::from).collect(),
            rows: Vec::new(),
            aligns: vec![Align::Left; columns],
            max_widths: vec![None; columns],
        }
    }

    pub fn align(mut self, column: usize, align: Align) -> Self {
        if column < self.aligns.len() {
            self.aligns[column] = align;
        }
        self
    }

    pub fn max_width(mut self, column: usize, width: usize) -> Self {
        if column < self.max_widths.len() {
            self.max_widths[column] = Some(width.max(2));
        }
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn cell(&self, column: usize, text: &str) -> String {
        match self.max_widths[column] {
            Some(max) if text.width() > max => truncate(text, max),
            _ => text.to_string(),
        }
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let rows: Vec<Vec<String>> = std::iter::once(&self.headers)
            .chain(self.rows.iter())
            .map(|row| row.iter().enumerate().map(|(i, cell)| self.cell(i, cell)).collect())
            .collect();
        let widths: Vec<usize> = (0..columns).map(|c| rows.iter().map(|r| r[c].width()).max().unwrap_or(0)).collect();
        let mut out = String::new();
        for (index, row) in rows.iter().enumerate() {
            let line: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    let pad = " ".repeat(widths[c] - cell.width());
                    match self.aligns[c] {
                        Align::Left => format!("{cell}{pad}"),
                        Align::Right => format!("{pad}{cell}"),
                    }
                })
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
            if index == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                out.push_str(&rule.join("  "));
                out.push('\n');
            }
        }
        out
    }
}

/// Cuts `text` to at most `max` columns, ending in `…`.
pub fn truncate(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        out.push(c);
        width += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut table = Table::new(vec!["name", "n"]).align(1, Align::Right);
        table.row(vec!["a".into(), "1".into()]);
        table.row(vec!["日本".into(), "200".into()]);
        let text = table.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "name    n");
        assert_eq!(lines[2], "a       1");
        assert_eq!(lines[3], "日本  200");
    }
}
