//! One error type for every handler. API requests get the JSON error body
//! `{"error": {"code", "message", "field"}}`; pages get an HTML error page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// The JSON error body of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `invalid_parameter`.
    pub code: String,
    pub message: String,
    /// The request parameter or form field at fault, when there is one.
    pub field: Option<String>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn internal(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn unauthorized() -> AppError {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in or send an API token (Authorization: Bearer …)",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError {
            field: Some(field.to_string()),
            ..AppError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message)
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                field: self.field.clone(),
            },
        }
    }
}

impl From<coco_store::StoreError> for AppError {
    fn from(error: coco_store::StoreError) -> AppError {
        use coco_store::StoreError as E;
        match &error {
            E::NotFound(_) => AppError::not_found(error.to_string()),
            E::Invalid(_) => AppError::new(StatusCode::CONFLICT, "conflict", error.to_string()),
            _ if error.is_user_error() => {
                AppError::new(StatusCode::BAD_REQUEST, "bad_request", error.to_string())
            }
            _ => {
                tracing::error!(%error, "store error");
                AppError::internal("the store failed; see the server log")
            }
        }
    }
}

impl From<coco_engine::EngineError> for AppError {
    fn from(error: coco_engine::EngineError) -> AppError {
        use coco_engine::EngineError as E;
        match error {
            E::Store(inner) => inner.into(),
            E::NotFound(message) => AppError::not_found(message),
            E::Conflict(message) => AppError::new(StatusCode::CONFLICT, "conflict", message),
            other if other.is_user_error() => {
                AppError::new(StatusCode::BAD_REQUEST, "bad_request", other.to_string())
            }
            other => {
                tracing::error!(error = %other, "engine error");
                AppError::internal("the request failed; see the server log")
            }
        }
    }
}

/// API handlers return this: errors become the JSON error body.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}
