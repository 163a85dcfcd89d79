//! The result table: every figure of every round, per row and per server; printed as a
//! Markdown table of medians, the ratio ours/etcd, the spread (min–max) of each side, and a
//! `*` where the two ranges do not overlap (the difference is larger than the noise seen).

use crate::server::Flavor;

/// Whether a larger figure is the better one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

struct Row {
    name: String,
    unit: &'static str,
    better: Better,
    ours: Vec<f64>,
    etcd: Vec<f64>,
    /// Printed on its own line under the row (e.g. the fsync floor beside workload 1).
    note: Option<String>,
}

#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    /// Add one round's figure to row `name` (created on first use, in order).
    pub fn record(&mut self, name: &str, unit: &'static str, better: Better, f: Flavor, v: f64) {
        let i = match self.rows.iter().position(|r| r.name == name) {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    name: name.to_string(),
                    unit,
                    better,
                    ours: Vec::new(),
                    etcd: Vec::new(),
                    note: None,
                });
                self.rows.len() - 1
            }
        };
        match f {
            Flavor::Ours => self.rows[i].ours.push(v),
            Flavor::Etcd => self.rows[i].etcd.push(v),
        }
    }

    /// Attach a note to row `name`, if it exists.
    pub fn note(&mut self, name: &str, note: String) {
        if let Some(r) = self.rows.iter_mut().find(|r| r.name == name) {
            r.note = Some(note);
        }
    }

    pub fn print(&self) {
        println!(
            "| workload | unit | ours | real etcd | ours/etcd | ours min–max | etcd min–max | |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---|");
        for r in &self.rows {
            let (o, e) = (stats(&r.ours), stats(&r.etcd));
            let ratio = match (o, e) {
                (Some(o), Some(e)) if e.median > 0.0 => format!("{:.2}", o.median / e.median),
                _ => "-".to_string(),
            };
            let mark = match (o, e) {
                (Some(o), Some(e)) if o.min > e.max || o.max < e.min => {
                    let ours_better = (o.median > e.median) == (r.better == Better::Higher);
                    if ours_better { "* ours" } else { "* etcd" }
                }
                _ => "",
            };
            let arrow = match r.better {
                Better::Higher => "↑",
                Better::Lower => "↓",
            };
            println!(
                "| {} | {} {arrow} | {} | {} | {ratio} | {} | {} | {mark} |",
                r.name,
                r.unit,
                o.map_or("-".into(), |s| fmt(s.median)),
                e.map_or("-".into(), |s| fmt(s.median)),
                o.map_or("-".into(), |s| format!("{}–{}", fmt(s.min), fmt(s.max))),
                e.map_or("-".into(), |s| format!("{}–{}", fmt(s.min), fmt(s.max))),
            );
            if let Some(n) = &r.note {
                println!("| ↳ {n} | | | | | | | |");
            }
        }
        println!();
        println!(
            "↑ higher is better, ↓ lower is better; medians over rounds; `*` marks rows whose \
             ranges do not overlap, and says who is ahead."
        );
    }
}

#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(v: &[f64]) -> Option<Stats> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    Some(Stats {
        median,
        min: s[0],
        max: s[n - 1],
    })
}

/// Three significant figures at most, no exponent.
fn fmt(v: f64) -> String {
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}
