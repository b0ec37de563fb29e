//! `web_app --selftest`: the same load, a few thousand requests from many concurrent
//! clients, against a server with its caches on (in this process) and then against one
//! with `MEMOCACHE_DISABLE=1` (a child process: the variable is read once per process),
//! and a table of requests, DB queries, requests/s and latency for each.

use crate::cached;
use crate::child::{ChildServer, TempDir};
use crate::client::Client;
use crate::db::{PRODUCTS, USERS};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Requests of each measurement.
pub const REQUESTS: usize = 5_000;
/// Concurrent clients of the throughput measurement.
pub const CLIENTS: usize = 50;
/// Requests per second of the latency measurement: below what either mode can serve here,
/// so that latency is service time, not a queue.
pub const RATE: u32 = 2_000;

/// Cities asked for the weather, the first ones most often.
const CITIES: [&str; 12] = [
    "lisbon", "oslo", "paris", "berlin", "madrid", "rome", "vienna", "prague", "dublin", "athens",
    "warsaw", "helsinki",
];

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Run {
    /// Requests sent.
    pub requests: usize,
    /// Responses whose status was not the expected 200, and requests with no response.
    pub errors: usize,
    /// SQL statements the server executed during the run.
    pub db_queries: u64,
    /// Calls that reached the weather upstream during the run.
    pub upstream_calls: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Every request's latency, sorted.
    pub latencies: Vec<Duration>,
}

impl Run {
    /// Requests per second over the run.
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile of the latencies (0.5: the median).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
}

/// SplitMix64: a small deterministic generator, so both runs send the same requests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf(s = 1) over 1..=n: the k-th most popular id is asked k times less than the first.
struct Zipf(Vec<f64>);

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for k in 1..=n {
            sum += 1.0 / k as f64;
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf(cdf)
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.0.partition_point(|&c| c < u).min(self.0.len() - 1) + 1
    }
}

/// One request of the mix: mostly reads, skewed to popular ids, and some edits.
#[derive(Clone)]
enum Req {
    Get(String),
    Put(String, String),
}

/// The mix in words, for the table's heading.
pub const MIX: &str = "55% GET /products/{id}, 15% /users/{id}, 10% /users/{id}/page, \
                       8% /products, 8% /weather/{city}, 4% PUT /users/{id}; ids Zipf(1)";

/// `n` requests of the mix, the same ones for the same `seed`.
fn plan(n: usize, seed: u64) -> Vec<Req> {
    let (products, users, cities) = (
        Zipf::new(PRODUCTS as usize),
        Zipf::new(USERS as usize),
        Zipf::new(CITIES.len()),
    );
    let mut rng = Rng(seed);
    (0..n)
        .map(|seq| match rng.next() % 100 {
            0..55 => Req::Get(format!("/products/{}", products.sample(&mut rng))),
            55..70 => Req::Get(format!("/users/{}", users.sample(&mut rng))),
            70..80 => Req::Get(format!("/users/{}/page", users.sample(&mut rng))),
            80..88 => Req::Get("/products".to_string()),
            88..96 => Req::Get(format!("/weather/{}", CITIES[cities.sample(&mut rng) - 1])),
            _ => Req::Put(
                format!("/users/{}", users.sample(&mut rng)),
                format!("{{\"name\": \"Renamed {seq}\"}}"),
            ),
        })
        .collect()
}

/// Sends one request; true if it got the expected 200.
async fn send(client: &Client, req: &Req) -> bool {
    let reply = match req {
        Req::Get(path) => client.get(path).await,
        Req::Put(path, body) => client.put_json(path, body).await,
    };
    matches!(reply, Ok(ref r) if r.status == 200)
}

/// Throughput: [`CLIENTS`] clients each send their share of `plan` one request after the
/// other, as fast as the server answers. Starts from whatever the caches hold.
async fn flat_out(client: &Client, plan: &[Req]) -> io::Result<Run> {
    let before = counters(client).await?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        let mine: Vec<Req> = plan.iter().skip(c).step_by(CLIENTS).cloned().collect();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(mine.len());
            let mut errors = 0;
            for req in &mine {
                let t = Instant::now();
                let ok = send(&client, req).await;
                latencies.push(t.elapsed());
                errors += usize::from(!ok);
            }
            (latencies, errors)
        });
    }
    let mut run = Run {
        requests: plan.len(),
        errors: 0,
        db_queries: 0,
        upstream_calls: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(plan.len()),
    };
    while let Some(done) = tasks.join_next().await {
        let (latencies, errors) = done.map_err(io::Error::other)?;
        run.latencies.extend(latencies);
        run.errors += errors;
    }
    run.elapsed = start.elapsed();
    run.latencies.sort_unstable();
    let after = counters(client).await?;
    run.db_queries = after.0 - before.0;
    run.upstream_calls = after.1 - before.1;
    Ok(run)
}

/// Latency: the requests of `plan` leave at a fixed `rate` per second, each on its own
/// task whatever the earlier ones are doing (an open loop: a slow answer delays no other
/// request), each timed from when it was sent. (From when it was due would add the
/// timer's millisecond granularity to every request.)
async fn paced(client: &Client, plan: &[Req], rate: u32) -> io::Result<Run> {
    let before = counters(client).await?;
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, req) in plan.iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / f64::from(rate));
        tokio::time::sleep_until(due).await;
        let (client, req) = (client.clone(), req.clone());
        tasks.spawn(async move {
            let t = Instant::now();
            let ok = send(&client, &req).await;
            (t.elapsed(), ok)
        });
    }
    let mut run = Run {
        requests: plan.len(),
        errors: 0,
        db_queries: 0,
        upstream_calls: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(plan.len()),
    };
    while let Some(done) = tasks.join_next().await {
        let (latency, ok) = done.map_err(io::Error::other)?;
        run.latencies.push(latency);
        run.errors += usize::from(!ok);
    }
    run.elapsed = start.elapsed();
    run.latencies.sort_unstable();
    let after = counters(client).await?;
    run.db_queries = after.0 - before.0;
    run.upstream_calls = after.1 - before.1;
    Ok(run)
}

/// Both measurements against the server at `addr`, from its cold start: flat out, then
/// paced (with other requests of the same mix).
pub async fn drive(addr: SocketAddr) -> io::Result<(Run, Run)> {
    let client = Client::new(addr);
    let throughput = flat_out(&client, &plan(REQUESTS, 1)).await?;
    let latency = paced(&client, &plan(REQUESTS, 2), RATE).await?;
    Ok((throughput, latency))
}

/// `db_queries` and `upstream_calls` from the server's `/stats`.
async fn counters(client: &Client) -> io::Result<(u64, u64)> {
    let reply = client.get("/stats").await.map_err(io::Error::other)?;
    let v = reply.json().map_err(io::Error::other)?;
    let get = |k: &str| {
        v[k].as_u64()
            .ok_or_else(|| io::Error::other(format!("/stats has no {k}: {}", reply.body)))
    };
    Ok((get("db_queries")?, get("upstream_calls")?))
}

/// Runs both modes and prints the table.
pub async fn run() -> io::Result<()> {
    if std::env::var_os("MEMOCACHE_DISABLE").is_some() {
        eprintln!("note: MEMOCACHE_DISABLE is set: the \"caches on\" run is not cached");
    }
    let dir = TempDir::new("web-app-selftest")?;
    let server = crate::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        &dir.path().join("shop.sqlite"),
        Duration::ZERO,
    )
    .await?;
    let on = drive(server.addr).await?;
    server.stop();
    let exe = std::env::current_exe()?;
    let off = {
        let child = ChildServer::start(&exe, &[], &[("MEMOCACHE_DISABLE", "1")])?;
        drive(child.addr).await?
    };
    print_table(&on, &off);
    if on.0.errors + on.1.errors + off.0.errors + off.1.errors > 0 {
        return Err(io::Error::other("some requests failed"));
    }
    Ok(())
}

fn print_table(on: &(Run, Run), off: &(Run, Run)) {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("web_app --selftest on {cores} cores: the same requests against a server with its");
    println!("caches on (in this process) and one with MEMOCACHE_DISABLE=1 (a child process)");
    println!("mix: {MIX}\n");
    println!("| mode | requests | DB queries | upstream calls | requests/s | p50 | p99 | errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (mode, (fast, slow)) in [("caches on", on), ("`MEMOCACHE_DISABLE=1`", off)] {
        println!(
            "| {mode} | {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            fast.requests + slow.requests,
            fast.db_queries + slow.db_queries,
            fast.upstream_calls + slow.upstream_calls,
            fast.per_second(),
            slow.quantile(0.5).as_secs_f64() * 1e3,
            slow.quantile(0.99).as_secs_f64() * 1e3,
            fast.errors + slow.errors
        );
    }
    println!(
        "\nrequests/s: the first {REQUESTS} requests, from cold caches, {CLIENTS} clients each \
         sending its next request when the last one is answered."
    );
    println!(
        "p50, p99: the next {REQUESTS} requests sent at {RATE}/s whatever the answers, \
         each timed from when it was sent."
    );
    println!("\nthe caches of the \"caches on\" server:\n");
    println!("| cache | hits | misses | invalidations | entries | hit ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for c in cached::handles() {
        let s = c.stats();
        println!(
            "| {} | {} | {} | {} | {} | {:.1}% |",
            c.name(),
            s.hits,
            s.misses,
            s.invalidations,
            c.len(),
            s.hit_ratio() * 100.0
        );
    }
}
