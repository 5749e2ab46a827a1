//! Drawing. `render` draws one frame of the dashboard; `headless_line` is the same status in one
//! line of text. Both run through `whisker_hot::call` each frame: edit them and save.

use tui::backend::Backend;
use tui::layout::{Constraint, Direction, Layout, Rect};
use tui::style::{Color, Modifier, Style};
use tui::text::{Span, Spans};
use tui::widgets::{Block, Borders, Gauge, List, ListItem, Paragraph, Sparkline};
use tui::Frame;

use crate::app::{App, JobState};

pub fn title() -> &'static str {
    "build farm"
}

/// The one-line summary shown in the header, and printed per frame in headless mode.
pub fn status_line(app: &App) -> String {
    format!(
        "{} | {} busy of {} | {} queued | {} done | {} failed{}",
        title(),
        app.busy(),
        app.workers.len(),
        app.queued,
        app.finished(),
        app.failed(),
        if app.paused { " | paused" } else { "" }
    )
}

pub fn headless_line(app: &App) -> String {
    format!("frame {}: {}", app.frame, status_line(app))
}

fn state_colour(state: JobState) -> Color {
    match state {
        JobState::Idle => Color::DarkGray,
        JobState::Running => Color::Green,
        JobState::Failed => Color::Red,
    }
}

pub fn render<B: Backend>(f: &mut Frame<B>, app: &App) {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Length(3), Constraint::Min(8), Constraint::Length(7)])
        .split(f.size());

    let header = Paragraph::new(Spans::from(vec![
        Span::styled(format!(" frame {} ", app.frame), Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(status_line(app)),
    ]))
    .block(Block::default().borders(Borders::ALL).title(" whisker tui-app "));
    f.render_widget(header, rows[0]);

    let middle = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(60), Constraint::Percentage(40)])
        .split(rows[1]);
    render_workers(f, app, middle[0]);
    render_log(f, app, middle[1]);

    let data: Vec<u64> = app.throughput.iter().copied().collect();
    let sparkline = Sparkline::default()
        .block(Block::default().borders(Borders::ALL).title(" jobs finished per frame "))
        .style(Style::default().fg(Color::Cyan))
        .data(&data);
    f.render_widget(sparkline, rows[2]);
}

fn render_workers<B: Backend>(f: &mut Frame<B>, app: &App, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(" workers (↑/↓ select, r retry, p pause, q quit) ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let constraints: Vec<Constraint> = app.workers.iter().map(|_| Constraint::Length(1)).collect();
    let lines = Layout::default().direction(Direction::Vertical).constraints(constraints).split(inner);
    for (index, (worker, line)) in app.workers.iter().zip(lines.iter()).enumerate() {
        let (label, percent) = match &worker.job {
            Some(job) => (format!("{} #{} {}", worker.name, job.id, job.target), job.progress),
            None if worker.state == JobState::Failed => (format!("{} failed", worker.name), 100),
            None => (format!("{} idle", worker.name), 0),
        };
        let mut style = Style::default().fg(state_colour(worker.state));
        if index == app.selected {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let gauge = Gauge::default().gauge_style(style).percent(percent).label(label);
        f.render_widget(gauge, *line);
    }
}

fn render_log<B: Backend>(f: &mut Frame<B>, app: &App, area: Rect) {
    let height = area.height.saturating_sub(2) as usize;
    let items: Vec<ListItem> = app
        .log
        .iter()
        .rev()
        .take(height)
        .map(|line| {
            let colour = if line.contains("failed") { Color::Red } else { Color::Gray };
            ListItem::new(Span::styled(line.clone(), Style::default().fg(colour)))
        })
        .collect();
    f.render_widget(List::new(items).block(Block::default().borders(Borders::ALL).title(" log ")), area);
}
