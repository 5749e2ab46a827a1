//! The dashboard's model: a small build farm whose workers pick up jobs, make progress each frame
//! and finish (or fail). Everything here lives across patches; `on_tick` runs the newest code.

use std::collections::VecDeque;

pub const HISTORY: usize = 120;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobState {
    Idle,
    Running,
    Failed,
}

#[derive(Clone, Debug)]
pub struct Worker {
    pub name: String,
    pub job: Option<Job>,
    pub state: JobState,
    pub finished: u64,
    pub failed: u64,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: u64,
    pub target: &'static str,
    pub progress: u16,
    pub speed: u16,
}

const TARGETS: &[&str] = &[
    "core", "parser", "codegen", "linker", "docs", "cli", "server", "web-ui", "bench", "fuzz",
];

pub struct App {
    pub frame: u64,
    pub paused: bool,
    pub selected: usize,
    pub workers: Vec<Worker>,
    /// Jobs finished per frame, newest last.
    pub throughput: VecDeque<u64>,
    pub queued: u64,
    pub next_job: u64,
    pub log: VecDeque<String>,
    rng: u64,
}

impl App {
    pub fn new(workers: usize, seed: u64) -> Self {
        App {
            frame: 0,
            paused: false,
            selected: 0,
            workers: (0..workers)
                .map(|i| Worker { name: format!("worker-{:02}", i + 1), job: None, state: JobState::Idle, finished: 0, failed: 0 })
                .collect(),
            throughput: VecDeque::with_capacity(HISTORY),
            queued: 24,
            next_job: 1,
            log: VecDeque::new(),
            rng: seed | 1,
        }
    }

    /// xorshift64*: plenty for a simulation, and no dependency.
    fn random(&mut self, below: u64) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % below.max(1)
    }

    pub fn on_tick(&mut self) {
        self.frame += 1;
        if self.paused {
            return;
        }
        if self.random(4) == 0 {
            self.queued += 1 + self.random(3);
        }
        let mut finished_now = 0;
        for index in 0..self.workers.len() {
            if self.workers[index].job.is_none() && self.workers[index].state != JobState::Failed && self.queued > 0 {
                let job = Job {
                    id: self.next_job,
                    target: TARGETS[self.random(TARGETS.len() as u64) as usize],
                    progress: 0,
                    speed: 3 + self.random(9) as u16,
                };
                self.next_job += 1;
                self.queued -= 1;
                let worker = &mut self.workers[index];
                worker.job = Some(job);
                worker.state = JobState::Running;
            }
            let fails = self.random(400) == 0;
            let worker = &mut self.workers[index];
            let Some(job) = worker.job.as_mut() else { continue };
            job.progress = (job.progress + job.speed).min(100);
            if fails {
                worker.failed += 1;
                worker.state = JobState::Failed;
                let line = format!("#{} {} failed on {}", job.id, job.target, worker.name);
                worker.job = None;
                self.push_log(line);
            } else if job.progress >= 100 {
                worker.finished += 1;
                worker.state = JobState::Idle;
                let line = format!("#{} {} finished on {}", job.id, job.target, worker.name);
                worker.job = None;
                finished_now += 1;
                self.push_log(line);
            }
        }
        if self.throughput.len() == HISTORY {
            self.throughput.pop_front();
        }
        self.throughput.push_back(finished_now);
    }

    fn push_log(&mut self, line: String) {
        if self.log.len() == 50 {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }

    pub fn retry_failed(&mut self) {
        for worker in &mut self.workers {
            if worker.state == JobState::Failed {
                worker.state = JobState::Idle;
                self.queued += 1;
            }
        }
    }

    pub fn select_next(&mut self) {
        self.selected = (self.selected + 1) % self.workers.len();
    }

    pub fn select_previous(&mut self) {
        self.selected = (self.selected + self.workers.len() - 1) % self.workers.len();
    }

    pub fn finished(&self) -> u64 {
        self.workers.iter().map(|w| w.finished).sum()
    }

    pub fn failed(&self) -> u64 {
        self.workers.iter().map(|w| w.failed).sum()
    }

    pub fn busy(&self) -> usize {
        self.workers.iter().filter(|w| w.state == JobState::Running).count()
    }
}
