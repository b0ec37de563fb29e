//! The SQLite database: opening and seeding it, the queries the routes need, and the count
//! of SQL statements SQLite really executed (its own trace hook, on every connection).
//!
//! rusqlite is synchronous: each query runs on tokio's blocking pool, on one of a few
//! connections kept open (WAL mode lets readers and the writer work side by side).

use rusqlite::trace::{TraceEvent, TraceEventCodes};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How many products and users a new database is seeded with.
pub const PRODUCTS: i64 = 300;
/// See [`PRODUCTS`].
pub const USERS: i64 = 40;

/// Most connections open at once (and so most queries running at once).
const CONNECTIONS: usize = 4;

/// A failed query: the database is unreachable, locked for too long or corrupt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbError(pub String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

/// One row of `products`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Product {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Price in cents.
    pub price_cents: i64,
    /// Units in stock.
    pub stock: i64,
    /// A sentence about it.
    pub description: String,
}

/// One row of `users`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Display name (the field `PUT /users/{id}` edits).
    pub name: String,
    /// Contact address.
    pub email: String,
    /// How many times the name was edited.
    pub edits: i64,
}

/// The database file and its open connections.
pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    /// Statements SQLite started running, counted by its trace hook on every connection.
    statements: Arc<AtomicU64>,
    /// `statements` once the schema and the seed were in place.
    baseline: u64,
    /// Added to every query: the network round trip of a database server, which SQLite in
    /// the same process does not have (`--query-delay`, 0 by default).
    delay: Duration,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .field("queries", &self.queries())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database at `path` and seeds it when it is empty;
    /// every query will take `delay` longer.
    pub fn open(path: &Path, delay: Duration) -> Result<Db, DbError> {
        let statements = Arc::new(AtomicU64::new(0));
        let mut first = connect(path, &statements)?;
        first.pragma_update(None, "journal_mode", "WAL")?;
        seed(&mut first)?;
        let baseline = statements.load(Ordering::SeqCst);
        Ok(Db {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(CONNECTIONS),
            statements,
            baseline,
            delay,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQL statements executed since the database was opened and seeded.
    pub fn queries(&self) -> u64 {
        self.statements.load(Ordering::SeqCst) - self.baseline
    }

    /// Runs `f` on a connection, on tokio's blocking pool: every query goes through here.
    async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| DbError(e.to_string()))?;
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match idle {
            Some(c) => c,
            None => connect(&self.path, &self.statements)?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = f(&mut conn);
            (conn, result)
        })
        .await
        .map_err(|e| DbError(format!("query task failed: {e}")))?;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        Ok(result?)
    }

    /// Every product, by id.
    pub async fn products(&self) -> Result<Vec<Product>, DbError> {
        self.run(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, name, price_cents, stock, description FROM products ORDER BY id",
            )?;
            let rows = st.query_map([], product_row)?;
            rows.collect()
        })
        .await
    }

    /// The product `id`, if there is one.
    pub async fn product(&self, id: i64) -> Result<Option<Product>, DbError> {
        self.run(move |c| {
            c.prepare_cached(
                "SELECT id, name, price_cents, stock, description FROM products WHERE id = ?1",
            )?
            .query_row([id], product_row)
            .optional()
        })
        .await
    }

    /// The user `id`, if there is one.
    pub async fn user(&self, id: i64) -> Result<Option<User>, DbError> {
        self.run(move |c| {
            c.prepare_cached("SELECT id, name, email, edits FROM users WHERE id = ?1")?
                .query_row([id], |r| {
                    Ok(User {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        email: r.get(2)?,
                        edits: r.get(3)?,
                    })
                })
                .optional()
        })
        .await
    }

    /// Renames user `id`; false if there is no such user.
    pub async fn rename_user(&self, id: i64, name: String) -> Result<bool, DbError> {
        self.run(move |c| {
            let n = c
                .prepare_cached("UPDATE users SET name = ?1, edits = edits + 1 WHERE id = ?2")?
                .execute(params![name, id])?;
            Ok(n == 1)
        })
        .await
    }
}

fn product_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product {
        id: r.get(0)?,
        name: r.get(1)?,
        price_cents: r.get(2)?,
        stock: r.get(3)?,
        description: r.get(4)?,
    })
}

/// A connection that counts, through SQLite's trace hook, each statement it starts running.
fn connect(path: &Path, statements: &Arc<AtomicU64>) -> Result<Connection, DbError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let counter = Arc::clone(statements);
    conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_STMT,
        Some(move |event: TraceEvent<'_>| {
            if let TraceEvent::Stmt(..) = event {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }),
    )?;
    Ok(conn)
}

const ADJECTIVES: [&str; 12] = [
    "Sturdy", "Tiny", "Quiet", "Bright", "Smart", "Classic", "Rugged", "Sleek", "Cosy", "Swift",
    "Golden", "Handy",
];
const NOUNS: [&str; 10] = [
    "Lamp",
    "Kettle",
    "Backpack",
    "Notebook",
    "Headphones",
    "Mug",
    "Chair",
    "Umbrella",
    "Clock",
    "Bicycle",
];
const FIRST: [&str; 10] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Linus",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
];

/// Creates the tables and, when they are empty, fills them (in one transaction).
fn seed(conn: &mut Connection) -> Result<(), DbError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS products (
             id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,
             stock INTEGER NOT NULL, description TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS users (
             id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
             edits INTEGER NOT NULL DEFAULT 0);",
    )?;
    let have: i64 = conn.query_row("SELECT COUNT(*) FROM products", [], |r| r.get(0))?;
    if have > 0 {
        return Ok(());
    }
    let tx = conn.transaction()?;
    {
        let mut add = tx.prepare(
            "INSERT INTO products (id, name, price_cents, stock, description)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for id in 1..=PRODUCTS {
            let i = id as usize;
            let name = format!(
                "{} {} {}",
                ADJECTIVES[i % ADJECTIVES.len()],
                NOUNS[(i / ADJECTIVES.len()) % NOUNS.len()],
                id
            );
            let price = 199 + (id * 7919) % 20_000;
            let stock = (id * 31) % 97;
            let text = format!(
                "The {} is number {id} of our catalogue: {} in stock, shipped in {} days.",
                name.to_lowercase(),
                stock,
                1 + id % 5
            );
            add.execute(params![id, name, price, stock, text])?;
        }
        let mut add = tx.prepare("INSERT INTO users (id, name, email) VALUES (?1, ?2, ?3)")?;
        for id in 1..=USERS {
            let i = id as usize;
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / FIRST.len() + i) % LAST.len()];
            let email = format!("{}.{}{id}@example.com", first, last).to_lowercase();
            add.execute(params![id, format!("{first} {last}"), email])?;
        }
    }
    tx.commit()?;
    Ok(())
}
