//! Bad input never gets a 5xx: a wrong id, body or city gets 400/404/413/415/422 with a
//! JSON error, changes nothing, and a burst of malformed HTTP leaves the server serving.

mod common;

use common::{db_queries, get_json, server};
use hyper::Method;
use hyper::body::Bytes;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// (method, path, content type, body, expected status)
type Case = (Method, &'static str, Option<&'static str>, String, u16);

fn cases() -> Vec<Case> {
    const JSON: Option<&str> = Some("application/json");
    let get = |path, status| (Method::GET, path, None, String::new(), status);
    let put = |path, ct, body: &str, status| (Method::PUT, path, ct, body.to_string(), status);
    vec![
        get("/products/abc", 400),
        get("/products/1.5", 400),
        get("/products/-", 400),
        get("/products/99999999999999999999", 400),
        get("/products/0", 404),
        get("/products/301", 404),
        get("/products/-4", 404),
        get("/users/x", 400),
        get("/users/0", 404),
        get("/users/41", 404),
        get("/users/abc/page", 400),
        get("/users/41/page", 404),
        get("/weather/a1", 400),
        get("/weather/%FF", 400),
        get("/weather/%20", 400),
        get("/weather/abcdefghijabcdefghijabcdefghijabcdefghijx", 400),
        get("/no/such/route", 404),
        put("/users/3", JSON, r#"{"name": "#, 400),
        put("/users/3", JSON, "not json", 400),
        put("/users/3", JSON, "", 400),
        put("/users/3", JSON, r#"{"name": 5}"#, 422),
        put("/users/3", JSON, r#"{"nam": "x"}"#, 422),
        put("/users/3", JSON, "{}", 422),
        put("/users/3", JSON, "[1, 2]", 422),
        put("/users/3", JSON, r#"{"name": "   "}"#, 422),
        put("/users/3", JSON, r#"{"name": "a\u0000b"}"#, 422),
        put(
            "/users/3",
            JSON,
            &format!(r#"{{"name": "{}"}}"#, "x".repeat(81)),
            422,
        ),
        put("/users/3", None, r#"{"name": "x"}"#, 415),
        put("/users/3", Some("text/plain"), r#"{"name": "x"}"#, 415),
        put("/users/abc", JSON, r#"{"name": "x"}"#, 400),
        put("/users/999", JSON, r#"{"name": "x"}"#, 404),
        put(
            "/users/3",
            JSON,
            &format!(r#"{{"name": "{}"}}"#, "x".repeat(3 << 20)),
            413,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_with_a_json_error_and_changes_nothing() {
    let (_server, c) = server(&[]);
    let before = get_json(&c, "/users/3").await;
    for (method, path, ct, body, status) in cases() {
        let what = format!("{method} {path} ({:?}, {} bytes)", ct, body.len());
        let r = c
            .send(method, path, ct, Bytes::from(body))
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/json"),
            "{what}: {}",
            r.body
        );
        let err = r.json().unwrap_or_else(|e| panic!("{what}: {e}"));
        let msg = err["error"].as_str().unwrap_or("");
        assert!(!msg.is_empty(), "{what}: no error message in {}", r.body);
    }
    assert_eq!(get_json(&c, "/users/3").await, before, "no bad edit landed");
    // A method the route does not have: 405, still no 5xx.
    let r = c
        .send(Method::DELETE, "/users/3", None, Bytes::new())
        .await
        .expect("an answer");
    assert_eq!(r.status, 405);
    // What reached SQLite: the first read of user 3, the lookups of the absent ids
    // (products 0, 301 and -4, users 0 and 41: a 404 is cached too) and the UPDATE of the
    // well-formed edit of user 999. No rejected body got to the database.
    assert_eq!(db_queries(&c).await, 7);
}

/// Raw bytes that are not (all) valid HTTP/1.1 requests.
fn malformed() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        b"GARBAGE\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"GET /products/1 HTTP/1.1\r\nHost\r\n\r\n".to_vec(),
        b"\xff\xfe\x00\x01 / HTTP/1.1\r\n\r\n".to_vec(),
        b"GET /products/\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /users/%00 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"PUT /users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
        b"PUT /users/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 40\r\n\r\n{\"na"
            .to_vec(),
        b"PUT /users/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
            .to_vec(),
        b"PUT /users/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 9\r\n\r\n{\"name\":}"
            .to_vec(),
        b"PUT /users/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 3\r\nContent-Length: 4\r\n\r\n{}{}"
            .to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
    ];
    let mut huge = b"GET /products/1 HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 200_000));
    huge.extend(b"\r\n\r\n");
    v.push(huge);
    v
}

/// Sends `bytes` on a new connection, closes the sending side and returns what came back
/// (whatever the server sent before closing, or before a 5 s silence).
fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // The server may close before reading it all (a request it refused): not a failure.
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_survives_a_burst_of_malformed_requests() {
    let (mut server, c) = server(&[]);
    let addr = server.addr;
    let payloads = malformed();
    let answers = tokio::task::spawn_blocking(move || {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let payloads = payloads.clone();
                std::thread::spawn(move || {
                    let mut answers = Vec::new();
                    for round in 0..25 {
                        let p = &payloads[(t + round) % payloads.len()];
                        answers.push(raw(addr, p));
                    }
                    answers
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("a sender panicked"))
            .collect::<Vec<_>>()
    })
    .await
    .expect("the burst ran");
    assert_eq!(answers.len(), 200);
    let mut statuses = Vec::new();
    for a in &answers {
        // Each answer is empty (the connection was closed) or starts with a status line.
        if a.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(a);
        let status: u16 = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|t| t.get(..3))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {:?}", &text[..text.len().min(200)]));
        assert!(status < 500, "a 5xx for malformed input: {text}");
        statuses.push(status);
    }
    assert!(
        statuses.iter().any(|s| (400..500).contains(s)),
        "some malformed requests were answered with a 4xx: {statuses:?}"
    );
    assert!(server.is_running(), "the server is still up");
    assert_eq!(get_json(&c, "/products/1").await["id"], 1);
    assert_eq!(get_json(&c, "/users/1").await["id"], 1);
    assert_eq!(
        get_json(&c, "/stats").await["caches"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );
}
