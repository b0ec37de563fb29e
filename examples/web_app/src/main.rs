//! The `web_app` binary: `web_app [--addr HOST:PORT] [--db PATH] [--query-delay MS]` serves
//! the shop; `web_app --selftest` runs the load test and prints its table.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: web_app [--addr HOST:PORT] [--db PATH] [--query-delay MS]
       web_app --selftest

  --addr         where to listen (default 127.0.0.1:8080; port 0 picks a free one)
  --db           the SQLite file, created and seeded if needed (default: one in a temp dir)
  --query-delay  milliseconds added to every query, as a database server's round trip (default 0)
  --selftest     drive a few thousand requests at a server with caches on, then at one
                 with MEMOCACHE_DISABLE=1, and print a table of both";

struct Args {
    addr: SocketAddr,
    db: Option<PathBuf>,
    query_delay: Duration,
    selftest: bool,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        db: None,
        query_delay: Duration::ZERO,
        selftest: false,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => {
                let v = value()?;
                args.addr = v.parse().map_err(|e| format!("--addr {v}: {e}"))?;
            }
            "--db" => args.db = Some(PathBuf::from(value()?)),
            "--query-delay" => {
                let v = value()?;
                let ms: u64 = v.parse().map_err(|e| format!("--query-delay {v}: {e}"))?;
                args.query_delay = Duration::from_millis(ms);
            }
            "--selftest" => args.selftest = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("web_app: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("web_app: cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if args.selftest {
        runtime.block_on(web_app::selftest::run())
    } else {
        runtime.block_on(serve(args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("web_app: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let (db, chosen) = match args.db {
        Some(p) => (p, true),
        None => {
            let dir =
                std::env::temp_dir().join(format!("memocache-web-app-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            (dir.join("shop.sqlite"), false)
        }
    };
    let server = web_app::start(args.addr, &db, args.query_delay).await?;
    // The first line on stdout, which the tests and the selftest wait for; nothing else
    // goes to stdout.
    println!("listening on http://{}", server.addr);
    if !chosen {
        eprintln!("database: {}", db.display());
    }
    tokio::select! {
        r = server.wait() => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
