//! A terminal dashboard for a (simulated) build farm, on tui + crossterm, hot-patchable with
//! Whisker: every frame the app advances its model and redraws through `whisker_hot::call`, so an
//! edit to `ui.rs` (layout, colours, the status line) or to `app.rs` (the simulation) shows in the
//! running dashboard, which keeps its jobs, history and frame counter.
//!
//! Keys: `q`/Esc quit, `p` pause, `↑`/`↓` (or `k`/`j`) select a worker, `r` retry failed jobs.
//!
//! Headless mode (`TUI_HEADLESS=1`, or automatically when stdout is not a terminal): no screen,
//! one line per frame, `frame <n>: <status line>`, so scripts can watch the app. stdout starts
//! with `whisker: aslr_reference=0x<hex>` and `whisker: pid=<pid>` either way (on a terminal,
//! before the alternate screen opens).
//!
//! Environment: `TUI_FRAME_MS` (default 250), `TUI_MAX_FRAMES` (exit after that many frames),
//! `TUI_HEADLESS`, plus whisker-hot's `WHISKER_DEV_SERVER` & co. for `connect()`.

mod app;
mod ui;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};
use tui::backend::CrosstermBackend;
use tui::Terminal;

use crate::app::App;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|value| value.trim().parse().ok())
}

fn headless_requested() -> bool {
    match std::env::var("TUI_HEADLESS") {
        Ok(value) => value != "0" && !value.is_empty(),
        Err(_) => !std::io::stdout().is_terminal(),
    }
}

fn run_headless(app: &mut App, frame: Duration, max_frames: Option<u64>) {
    loop {
        let line = whisker_hot::call(|| {
            app.on_tick();
            ui::headless_line(app)
        });
        say(&line);
        if max_frames.is_some_and(|max| app.frame >= max) {
            return;
        }
        std::thread::sleep(frame);
    }
}

fn run_terminal(app: &mut App, frame: Duration, max_frames: Option<u64>) -> std::io::Result<()> {
    enable_raw_mode()?;
    let mut stdout = std::io::stdout();
    execute!(stdout, EnterAlternateScreen)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout))?;
    terminal.hide_cursor()?;

    let outcome = (|| -> std::io::Result<()> {
        let mut next_frame = Instant::now();
        loop {
            if Instant::now() >= next_frame {
                whisker_hot::call(|| app.on_tick());
                terminal.draw(|f| whisker_hot::call(|| ui::render(f, app)))?;
                next_frame += frame;
                if max_frames.is_some_and(|max| app.frame >= max) {
                    return Ok(());
                }
            }
            let wait = next_frame.saturating_duration_since(Instant::now());
            if event::poll(wait)? {
                if let Event::Key(key) = event::read()? {
                    if key.kind != KeyEventKind::Press {
                        continue;
                    }
                    match key.code {
                        KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                        KeyCode::Char('p') => app.paused = !app.paused,
                        KeyCode::Char('r') => app.retry_failed(),
                        KeyCode::Up | KeyCode::Char('k') => app.select_previous(),
                        KeyCode::Down | KeyCode::Char('j') => app.select_next(),
                        _ => {}
                    }
                    terminal.draw(|f| whisker_hot::call(|| ui::render(f, app)))?;
                }
            }
        }
    })();

    disable_raw_mode()?;
    execute!(terminal.backend_mut(), LeaveAlternateScreen)?;
    terminal.show_cursor()?;
    outcome
}

fn main() {
    say(&format!("whisker: aslr_reference={:#x}", whisker_hot::aslr_reference()));
    say(&format!("whisker: pid={}", std::process::id()));
    whisker_hot::connect();

    let frame = Duration::from_millis(env_number("TUI_FRAME_MS").unwrap_or(250).max(10));
    let max_frames = env_number("TUI_MAX_FRAMES");
    let mut app = App::new(8, std::process::id() as u64);

    if headless_requested() {
        run_headless(&mut app, frame, max_frames);
    } else if let Err(err) = run_terminal(&mut app, frame, max_frames) {
        eprintln!("tui-app: terminal error: {err}");
        std::process::exit(1);
    }
}
