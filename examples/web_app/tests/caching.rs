//! What caching does to the service, over real HTTP against a server in its own process:
//! repeated reads query SQLite once, a burst of concurrent cold reads runs one query, and
//! an edit is visible at once on every route, also while readers keep reading.

mod common;

use common::{cache, db_queries, get_json, hits_misses, server, stats};
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_reads_query_the_database_once() {
    let (_server, c) = server(&[]);
    assert_eq!(db_queries(&c).await, 0, "seeding is not counted");

    let first = get_json(&c, "/products/5").await;
    assert_eq!(first["id"], 5);
    for _ in 0..9 {
        assert_eq!(get_json(&c, "/products/5").await, first);
    }
    let s = stats(&c).await;
    assert_eq!(s["db_queries"], 1, "ten reads of one product, one query");
    assert_eq!(hits_misses(&s, "product"), (9, 1));
    assert_eq!(cache(&s, "product")["len"], 1);

    // A profile, then its page: the page is built from the cached profile.
    for _ in 0..5 {
        assert_eq!(get_json(&c, "/users/4").await["id"], 4);
    }
    for _ in 0..5 {
        let page = c.get("/users/4/page").await.expect("an answer");
        assert_eq!(page.status, 200);
        assert!(page.body.contains("user #4"), "{}", page.body);
        assert!(
            page.content_type
                .as_deref()
                .unwrap_or("")
                .starts_with("text/html")
        );
    }
    for _ in 0..3 {
        let list = get_json(&c, "/products").await;
        assert_eq!(list.as_array().map(Vec::len), Some(300));
    }
    let s = stats(&c).await;
    assert_eq!(
        s["db_queries"], 3,
        "product 5, user 4, the list: one query each"
    );
    assert_eq!(
        hits_misses(&s, "user"),
        (5, 1),
        "4 GETs and the page's build"
    );
    assert_eq!(hits_misses(&s, "user_page"), (4, 1));
    assert_eq!(hits_misses(&s, "product_list"), (2, 1));

    // Absent rows are remembered too: a 404 twice is one query.
    for _ in 0..2 {
        assert_eq!(
            c.get("/products/1000").await.expect("an answer").status,
            404
        );
    }
    assert_eq!(db_queries(&c).await, 4);

    // The weather upstream, once per city; names are normalised before the lookup.
    for city in ["Lisbon", "lisbon", " LISBON "] {
        let w = get_json(&c, &format!("/weather/{}", city.replace(' ', "%20"))).await;
        assert_eq!(w["city"], "lisbon");
    }
    let s = stats(&c).await;
    assert_eq!(s["upstream_calls"], 1);
    assert_eq!(hits_misses(&s, "weather"), (2, 1));
    assert_eq!(
        s["db_queries"], 4,
        "the weather does not touch the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_cold_requests_run_one_query() {
    // Each query takes 300 ms longer (a database server's round trip), so the 200
    // requests all arrive while the first one's query runs.
    let (_server, c) = server(&["--query-delay", "300"]);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let c = c.clone();
        tasks.spawn(async move { c.get("/products/42").await });
    }
    let mut bodies = HashSet::new();
    while let Some(r) = tasks.join_next().await {
        let r = r.expect("the task ran").expect("an answer");
        assert_eq!(r.status, 200, "{}", r.body);
        bodies.insert(r.body);
    }
    assert_eq!(bodies.len(), 1, "every caller got the same product");
    let s = stats(&c).await;
    assert_eq!(
        s["db_queries"], 1,
        "single-flight: one query for 200 callers"
    );
    assert_eq!(hits_misses(&s, "product"), (199, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_visible_at_once_on_both_routes() {
    let (_server, c) = server(&[]);
    let before = get_json(&c, "/users/9").await;
    let old = before["name"].as_str().expect("a name").to_string();
    for _ in 0..2 {
        assert_eq!(get_json(&c, "/users/9").await["name"], old.as_str());
        let page = c.get("/users/9/page").await.expect("an answer");
        assert!(
            page.body.contains(&format!("<h1>{old}</h1>")),
            "{}",
            page.body
        );
    }
    let s = stats(&c).await;
    assert_eq!(s["db_queries"], 1);

    let r = c
        .put_json("/users/9", r#"{"name": "Grace <Brewster> Hopper"}"#)
        .await
        .expect("an answer");
    assert_eq!(r.status, 200, "{}", r.body);
    let edited = r.json().expect("JSON");
    assert_eq!(edited["user"]["name"], "Grace <Brewster> Hopper");
    assert_eq!(edited["dropped"], 2, "the profile and the page");

    let now = get_json(&c, "/users/9").await;
    assert_eq!(now["name"], "Grace <Brewster> Hopper");
    assert_eq!(now["edits"], 1);
    let page = c.get("/users/9/page").await.expect("an answer");
    assert!(
        page.body.contains("<h1>Grace &lt;Brewster&gt; Hopper</h1>"),
        "the page shows the edit, escaped: {}",
        page.body
    );
    let s = stats(&c).await;
    assert_eq!(
        s["db_queries"], 3,
        "the first read, the UPDATE, one read of the new row"
    );
    assert_eq!(cache(&s, "user")["invalidations"], 1);
    assert_eq!(cache(&s, "user_page")["invalidations"], 1);

    // Another user's entries stay cached through the edit.
    get_json(&c, "/users/10").await;
    c.put_json("/users/9", r#"{"name": "Ada"}"#)
        .await
        .expect("an answer");
    let q = db_queries(&c).await;
    get_json(&c, "/users/10").await;
    assert_eq!(db_queries(&c).await, q, "user 10 was not dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_under_concurrent_reads_are_never_undone() {
    let (_server, c) = server(&[]);
    // Readers keep reading user 3 and its page; each checks that the edit count it sees
    // never goes down (a stale value stored after an invalidation would show as one).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for r in 0..6 {
        let (c, stop) = (c.clone(), stop.clone());
        readers.spawn(async move {
            let mut last = 0;
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let edits = if r % 2 == 0 {
                    let u = get_json(&c, "/users/3").await;
                    u["edits"].as_i64().expect("edits")
                } else {
                    let page = c.get("/users/3/page").await.expect("an answer");
                    let n = page
                        .body
                        .split("edited ")
                        .nth(1)
                        .and_then(|t| t.split(' ').next())
                        .and_then(|n| n.parse().ok());
                    n.unwrap_or_else(|| panic!("no count in {}", page.body))
                };
                assert!(edits >= last, "reader {r} saw {edits} after {last}");
                last = edits;
                reads += 1;
            }
            reads
        });
    }
    for i in 1..=40 {
        let name = format!("Name {i}");
        let r = c
            .put_json("/users/3", &format!(r#"{{"name": "{name}"}}"#))
            .await
            .expect("an answer");
        assert_eq!(r.status, 200, "{}", r.body);
        // A read that starts after the edit returned sees it, on both routes.
        let u = get_json(&c, "/users/3").await;
        assert_eq!(
            (u["name"].as_str(), u["edits"].as_i64()),
            (Some(&*name), Some(i))
        );
        let page = c.get("/users/3/page").await.expect("an answer");
        assert!(
            page.body.contains(&format!("<h1>{name}</h1>")),
            "{}",
            page.body
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = 0;
    while let Some(n) = readers.join_next().await {
        reads += n.expect("a reader failed");
    }
    assert!(reads > 40, "the readers ran alongside ({reads} reads)");
    let s = stats(&c).await;
    // Each edit but the first found the entry the previous one stored.
    assert!(cache(&s, "user")["invalidations"].as_u64() >= Some(39));
}
