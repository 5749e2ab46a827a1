//! `logscope`: analyse log files, or watch a live stream and print one summary line per tick.
//!
//! ```text
//! logscope [watch] [--follow FILE | --format combined] [--rate 400] [--tick-ms 1000] [--query Q]
//! logscope analyze FILE... [--output text|json|csv|markdown] [--query Q] [--config logscope.toml]
//! logscope detect FILE...
//! logscope config [--config logscope.toml]
//! ```
//!
//! `watch` (the default) is long-running: every tick it takes the new lines (from `--follow`, or
//! from the built-in traffic generator) and runs them through the library's engine inside
//! `whisker_hot::call`, so an edit to the `logscope` library crate — a parser, a statistic, the
//! tick line's format — shows in the running process, whose totals keep accumulating.
//!
//! stdout starts with `whisker: aslr_reference=0x<hex>` and `whisker: pid=<pid>`; then
//! `tick <n>: …` per tick. `--metrics-addr` serves the last tick as JSON over HTTP.

mod follow;
mod metrics;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use logscope::generate::Generator;
use logscope::report::OutputFormat;
use logscope::{Config, Engine, Format, TickSummary};

#[derive(Parser, Debug)]
#[command(name = "logscope", version, about = "Log analysis: parse, filter, summarise, detect anomalies")]
struct Cli {
    /// TOML configuration (see `logscope config`).
    #[arg(long, global = true, env = "LOGSCOPE_CONFIG")]
    config: Option<PathBuf>,
    /// Only records matching this query, e.g. 'level >= warn and path ~ "^/api"'.
    #[arg(long, short, global = true)]
    query: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Watch a stream (a followed file, or generated traffic) and print a line per tick.
    Watch(WatchArgs),
    /// Analyse whole files and print a report.
    Analyze {
        files: Vec<PathBuf>,
        #[arg(long, short, default_value = "text")]
        output: String,
        /// Parse as this format instead of detecting it.
        #[arg(long)]
        format: Option<String>,
        /// Also list the longest client sessions.
        #[arg(long)]
        sessions: bool,
    },
    /// Say which format each file is in.
    Detect { files: Vec<PathBuf> },
    /// Print the effective configuration as TOML.
    Config,
}

#[derive(Parser, Debug, Clone)]
#[command(name = "watch")]
struct WatchArgs {
    /// Follow this file (like `tail -F`) instead of generating traffic.
    #[arg(long)]
    follow: Option<PathBuf>,
    /// Format of the generated traffic.
    #[arg(long, default_value = "combined")]
    format: String,
    /// Generated lines per tick.
    #[arg(long, default_value_t = 400, env = "LOGSCOPE_RATE")]
    rate: usize,
    #[arg(long, default_value_t = 1000, env = "LOGSCOPE_TICK_MS")]
    tick_ms: u64,
    /// Stop after this many ticks.
    #[arg(long, env = "LOGSCOPE_MAX_TICKS")]
    max_ticks: Option<u64>,
    /// Simulate an incident (errors and latency up) every N ticks.
    #[arg(long)]
    incident_every: Option<u64>,
    /// Serve the last tick as JSON on this address (e.g. 127.0.0.1:9898).
    #[arg(long, env = "LOGSCOPE_METRICS_ADDR")]
    metrics_addr: Option<String>,
    /// Seed of the generated traffic (default: random).
    #[arg(long, env = "LOGSCOPE_SEED")]
    seed: Option<u64>,
}

impl Default for WatchArgs {
    fn default() -> Self {
        WatchArgs::parse_from(["watch"])
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn load_config(cli: &Cli) -> Result<Config> {
    let mut config = match &cli.config {
        Some(path) => Config::load(&path.display().to_string())?,
        None => Config::default(),
    };
    if let Some(query) = &cli.query {
        config.query = query.clone();
    }
    config.validate()?;
    Ok(config)
}

async fn watch(config: Config, args: WatchArgs) -> Result<()> {
    let format = Format::from_name(&args.format).with_context(|| format!("unknown format {:?}", args.format))?;
    let mut engine = Engine::new(config)?;
    let mut generator = Generator::new(args.seed.unwrap_or_else(rand::random), format, chrono::Utc::now());
    let mut follower = match &args.follow {
        Some(path) => Some(follow::Follower::open(path)?),
        None => None,
    };
    let last_tick: Arc<Mutex<Option<TickSummary>>> = Arc::new(Mutex::new(None));
    if let Some(addr) = &args.metrics_addr {
        let addr = metrics::serve(addr, last_tick.clone()).await?;
        say(&format!("metrics on http://{addr}/"));
    }

    let mut interval = tokio::time::interval(Duration::from_millis(args.tick_ms.max(10)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    loop {
        interval.tick().await;
        ticks += 1;
        let lines = match follower.as_mut() {
            Some(follower) => follower.new_lines()?,
            None => {
                if args.incident_every.map_or(false, |every| every > 0 && ticks % every == 0) {
                    generator.incident(2);
                }
                generator.batch(args.rate, chrono::Duration::milliseconds(args.tick_ms as i64))
            }
        };
        let (summary, line) = whisker_hot::call(|| {
            let summary = engine.process_batch(&lines);
            let line = logscope::report::tick_line(&summary);
            (summary, line)
        });
        say(&line);
        *last_tick.lock().expect("metrics lock") = Some(summary);
        if args.max_ticks.map_or(false, |max| ticks >= max) {
            say(&engine.report("logscope watch").text());
            return Ok(());
        }
    }
}

fn analyze(config: Config, files: &[PathBuf], output: &str, format: Option<&str>, sessions: bool) -> Result<()> {
    if files.is_empty() {
        bail!("analyze needs at least one file");
    }
    let output = OutputFormat::from_name(output).with_context(|| format!("unknown output {output:?}"))?;
    let mut config = config;
    if let Some(format) = format {
        config.format = format.to_string();
    }
    let mut engine = Engine::new(config)?;
    for file in files {
        let lines = logscope::input::read_lines(file)?;
        log::info!("{}: {} lines", file.display(), lines.len());
        engine.process_all(&lines);
    }
    let title = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
    print!("{}", engine.report(&title).render(output)?);
    if sessions {
        println!("\nlongest sessions:");
        for session in engine.sessions().into_iter().take(10) {
            println!(
                "  {:<18} {:>6} requests {:>4} errors {}",
                session.client,
                session.requests,
                session.errors,
                logscope::timefmt::format_duration_short(session.duration().to_std().unwrap_or_default())
            );
        }
    }
    Ok(())
}

fn detect_files(files: &[PathBuf]) -> Result<()> {
    for file in files {
        let lines = logscope::input::read_lines(file)?;
        let detection = logscope::parse::detect(&lines, 500);
        println!("{}: {} ({:.0}% of {} sampled lines)", file.display(), detection.format, detection.confidence * 100.0, detection.sampled);
    }
    Ok(())
}

fn main() -> Result<()> {
    say(&format!("whisker: aslr_reference={:#x}", whisker_hot::aslr_reference()));
    say(&format!("whisker: pid={}", std::process::id()));
    whisker_hot::connect();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();

    let cli = Cli::parse();
    let config = load_config(&cli)?;
    if let Some(threads) = config.threads {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().ok();
    }
    match cli.command.unwrap_or_else(|| Command::Watch(WatchArgs::default())) {
        Command::Watch(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            runtime.block_on(watch(config, args))
        }
        Command::Analyze { files, output, format, sessions } => analyze(config, &files, &output, format.as_deref(), sessions),
        Command::Detect { files } => detect_files(&files),
        Command::Config => {
            print!("{}", config.to_toml()?);
            Ok(())
        }
    }
}
