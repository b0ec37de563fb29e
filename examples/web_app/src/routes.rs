//! The HTTP routes: what each URL answers, and the 4xx every bad input gets (always with a
//! JSON body `{"error": "..."}`; a 5xx only when the database itself fails).

use crate::AppState;
use crate::cached;
use crate::stats;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

/// The service's routes, over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/products", get(products))
        .route("/products/{id}", get(product))
        .route("/users/{id}", get(user).put(edit_user))
        .route("/users/{id}/page", get(user_page))
        .route("/weather/{city}", get(weather))
        .route("/stats", get(stats::stats_json))
        .route("/metrics", get(stats::metrics))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .with_state(state)
}

/// A failed request: its status and the message of its JSON body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is not read, so the connection cannot carry another
            // request: say so, or a client may send its next request into the closed socket.
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        r
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

/// The numeric `{id}` of a route; `400` with a JSON error when it is not a number.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
        raw.parse::<i64>().map(Id).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the id must be a number, not {raw:?}"),
            )
        })
    }
}

async fn dashboard() -> Html<&'static str> {
    Html(include_str!("dashboard.html"))
}

async fn products(State(s): State<AppState>) -> Result<Response, ApiError> {
    let list = cached::product_list(&s.db).await?;
    Ok(Json(&*list).into_response())
}

async fn product(State(s): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    match cached::product(&s.db, id).await? {
        Some(p) => Ok(Json(&*p).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no product {id}"),
        )),
    }
}

async fn user(State(s): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    match cached::user(&s.db, id).await? {
        Some(u) => Ok(Json(&*u).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no user {id}"),
        )),
    }
}

async fn user_page(State(s): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    match cached::user_page(&s.db, id).await? {
        Some(page) => Ok(Html(page.to_string()).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no user {id}"),
        )),
    }
}

/// The body of `PUT /users/{id}`.
#[derive(Deserialize)]
struct Edit {
    name: String,
}

/// Longest name accepted, in characters.
const MAX_NAME: usize = 80;

async fn edit_user(
    State(s): State<AppState>,
    Id(id): Id,
    body: Result<Json<Edit>, JsonRejection>,
) -> Result<Response, ApiError> {
    // Malformed JSON: 400; a missing or mistyped field: 422; no JSON content type: 415.
    let Json(edit) = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let name = edit.name.trim();
    if name.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the name must not be empty",
        ));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the name must be at most {MAX_NAME} printable characters"),
        ));
    }
    if !s.db.rename_user(id, name.to_string()).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no user {id}"),
        ));
    }
    // The database has the new name: drop every cached answer about this user, on every
    // route. A read that was running meanwhile does not store what it read.
    let (dropped, fresh) = cached::user_edited(&s.db, id).await?;
    Ok(Json(json!({ "user": fresh.as_deref(), "dropped": dropped })).into_response())
}

/// Longest city name accepted, in characters.
const MAX_CITY: usize = 40;

async fn weather(city: Result<Path<String>, PathRejection>) -> Result<Response, ApiError> {
    let Path(city) = city.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let city = city.trim().to_lowercase();
    let ok = !city.is_empty()
        && city.chars().count() <= MAX_CITY
        && city
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-');
    if !ok {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("a city is 1 to {MAX_CITY} letters, spaces or hyphens"),
        ));
    }
    Ok(Json(cached::weather(&city).await).into_response())
}
