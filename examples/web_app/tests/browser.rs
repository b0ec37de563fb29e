//! The dashboard in a real browser: headless Chromium loads `/` after a few requests, runs
//! the page's script (which fetches `/stats`) and the rendered DOM must show each cache
//! with its counts. Skipped when `chromium` is missing, unless `MEMOCACHE_REQUIRE_BROWSER=1`.

mod common;

use common::{cache, get_json, server, stats};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use web_app::child::TempDir;

/// `chromium` (or `chromium-browser`) on the `PATH`.
fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The DOM after the page's scripts ran for `budget` of virtual time.
fn dump_dom(chromium: &PathBuf, url: &str, budget: Duration) -> String {
    let dir = TempDir::new("chromium").expect("a temp dir");
    let out_path = dir.path().join("dom.html");
    let out = std::fs::File::create(&out_path).expect("the output file");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--virtual-time-budget={}", budget.as_millis()))
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match child.try_wait().expect("waiting for chromium") {
            Some(status) => {
                assert!(status.success(), "chromium failed: {status}");
                break;
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish in 90 s");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    std::fs::read_to_string(&out_path).expect("the dumped DOM")
}

/// The text of `<td class="{class}">` in the row `<tr data-cache="{name}">`.
fn cell(dom: &str, name: &str, class: &str) -> Option<String> {
    let row_start = dom.find(&format!("<tr data-cache=\"{name}\">"))?;
    let row = &dom[row_start..];
    let row = &row[..row.find("</tr>")?];
    let open = format!("<td class=\"{class}\">");
    let at = row.find(&open)? + open.len();
    let text = &row[at..];
    Some(text[..text.find("</td>")?].to_string())
}

/// The text of the element with `id="{id}"`.
fn by_id(dom: &str, id: &str) -> Option<String> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let text = &dom[at..];
    let text = &text[text.find('>')? + 1..];
    Some(text[..text.find('<')?].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_caches_with_their_counts() {
    let Some(chromium) = find_chromium() else {
        if std::env::var("MEMOCACHE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("chromium not found and MEMOCACHE_REQUIRE_BROWSER=1");
        }
        println!("skipped: chromium not found");
        return;
    };
    let (server, c) = server(&[]);
    for _ in 0..3 {
        get_json(&c, "/products/1").await;
    }
    get_json(&c, "/users/2").await;
    get_json(&c, "/users/2").await;
    let r = c
        .put_json("/users/2", r#"{"name": "Frances Allen"}"#)
        .await
        .expect("an answer");
    assert_eq!(r.status, 200);
    get_json(&c, "/weather/oslo").await;

    // As served, the table is empty: whatever the browser shows, its script drew.
    let raw = c.get("/").await.expect("an answer");
    assert_eq!(raw.status, 200);
    assert!(
        raw.body.contains("<tbody></tbody>"),
        "the served table is empty"
    );
    assert!(!raw.body.contains("data-cache=\""));

    let url = format!("http://{}/", server.addr);
    let chromium2 = chromium.clone();
    let dom = tokio::task::spawn_blocking(move || {
        dump_dom(&chromium2, &url, Duration::from_millis(2500))
    })
    .await
    .expect("chromium ran");
    let s = stats(&c).await;

    let status = by_id(&dom, "status").unwrap_or_default();
    assert!(
        status.starts_with("live"),
        "the page reached /stats: {status:?}"
    );
    assert_eq!(
        by_id(&dom, "db-queries").as_deref(),
        Some(s["db_queries"].to_string().as_str()),
        "the DB query count"
    );
    assert_eq!(
        s["db_queries"], 4,
        "product 1, user 2, the UPDATE, user 2 again"
    );
    for row in s["caches"].as_array().expect("caches") {
        let name = row["name"].as_str().expect("name");
        for col in ["hits", "misses", "invalidations", "len", "evictions"] {
            assert_eq!(
                cell(&dom, name, col),
                Some(row[col].to_string()),
                "{name} {col} in the rendered page"
            );
        }
    }
    // The counts of this test's requests, as the page shows them.
    let product = cache(&s, "product");
    assert_eq!(
        (&product["hits"], &product["misses"]),
        (&2.into(), &1.into())
    );
    assert_eq!(
        cell(&dom, "web_app::cached::product", "hits").as_deref(),
        Some("2")
    );
    assert_eq!(
        cell(&dom, "web_app::cached::user", "invalidations").as_deref(),
        Some("1")
    );
    // The hit-ratio bar of the product cache: 2 of 3.
    let ratio = cell(&dom, "web_app::cached::product", "hit-ratio").unwrap_or_default();
    assert!(ratio.contains("width: 66.7%"), "{ratio}");
    assert!(ratio.contains("66.7%</span>"), "{ratio}");
}
