//! Bearer tokens with the scopes `read` and `admin` (admin includes read), from the config.
//!
//! - Tokens are kept as SHA-256 digests and compared in constant time (`subtle`), every configured token each time,
//!   so neither the comparison nor the loop tells an attacker how close a guess was. Token values are never logged;
//!   logs name the token by its configured `name`.
//! - Reads need a token with `read` (or `admin`) unless `public_read` is on. A token that is sent must be valid even
//!   where none is needed: a misconfigured client learns at once instead of silently reading as anonymous.
//! - Missing or invalid token: 401 with `WWW-Authenticate: Bearer`; a valid token without the scope: 403.
//!
//! Use: the [`Reader`] and [`Admin`] extractors in handlers, and [`require_read`] as middleware on a whole scope
//! (`web::scope("/api/v1").wrap(actix_web::middleware::from_fn(auth::require_read))`).

use std::future::{ready, Ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{ApiState, Problem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Admin,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "read" => Some(Scope::Read),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

struct Token {
    name: String,
    digest: [u8; 32],
    admin: bool,
}

/// The configured access rules.
pub struct Auth {
    public_read: bool,
    tokens: Vec<Token>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.tokens.iter().map(|token| token.name.as_str()).collect();
        f.debug_struct("Auth").field("public_read", &self.public_read).field("tokens", &names).finish()
    }
}

impl Default for Auth {
    /// Public reads, no tokens: nothing admin-only is reachable.
    fn default() -> Self {
        Auth { public_read: true, tokens: Vec::new() }
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

impl Auth {
    pub fn new(public_read: bool) -> Self {
        Auth { public_read, tokens: Vec::new() }
    }

    /// Adds a token. Empty tokens are ignored (they could never be sent as a Bearer token anyway).
    pub fn with_token(mut self, name: &str, token: &str, scopes: &[Scope]) -> Self {
        if token.is_empty() {
            tracing::warn!(token = name, "ignoring an empty API token");
            return self;
        }
        self.tokens.push(Token {
            name: name.to_owned(),
            digest: digest(token.as_bytes()),
            admin: scopes.contains(&Scope::Admin),
        });
        self
    }

    pub fn public_read(&self) -> bool {
        self.public_read
    }

    /// `Ok(None)`: no token sent. `Err`: a token was sent and is not valid.
    fn identify(&self, request: &HttpRequest) -> Result<Option<Identity>, AuthError> {
        let Some(value) = request.headers().get(header::AUTHORIZATION) else { return Ok(None) };
        let value = value.to_str().map_err(|_| AuthError::Invalid)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Invalid)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthError::Invalid);
        }
        let presented = digest(token.trim().as_bytes());
        let mut found: Option<&Token> = None;
        for candidate in &self.tokens {
            if bool::from(candidate.digest.ct_eq(&presented)) {
                found = Some(candidate);
            }
        }
        let token = found.ok_or(AuthError::Invalid)?;
        Ok(Some(Identity { name: token.name.clone(), admin: token.admin }))
    }

    /// Checks a read: a valid token, or none where reads are public.
    pub fn check_read(&self, request: &HttpRequest) -> Result<Reader, AuthError> {
        match self.identify(request)? {
            Some(identity) => Ok(Reader { token: Some(identity.name) }),
            None if self.public_read => Ok(Reader { token: None }),
            None => Err(AuthError::Missing),
        }
    }

    /// Checks an admin request: a valid token with the `admin` scope.
    pub fn check_admin(&self, request: &HttpRequest) -> Result<Admin, AuthError> {
        match self.identify(request)? {
            Some(identity) if identity.admin => Ok(Admin { token: identity.name }),
            Some(identity) => {
                tracing::info!(token = %identity.name, path = request.path(), "token without the admin scope refused");
                Err(AuthError::Forbidden)
            }
            None => Err(AuthError::Missing),
        }
    }
}

struct Identity {
    name: String,
    admin: bool,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Invalid,
    Forbidden,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthError::Missing => "this resource needs a Bearer token (Authorization: Bearer <token>)",
            AuthError::Invalid => "the Bearer token is not valid",
            AuthError::Forbidden => "the token does not have the `admin` scope this resource needs",
        })
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            AuthError::Missing | AuthError::Invalid => StatusCode::UNAUTHORIZED,
            AuthError::Forbidden => StatusCode::FORBIDDEN,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, challenge) = match self {
            AuthError::Missing => ("Unauthorized", "Bearer realm=\"ikz-hub\""),
            AuthError::Invalid => ("Unauthorized", "Bearer realm=\"ikz-hub\", error=\"invalid_token\""),
            AuthError::Forbidden => {
                ("Forbidden", "Bearer realm=\"ikz-hub\", error=\"insufficient_scope\", scope=\"admin\"")
            }
        };
        let problem = Problem::new(self.status_code(), title, self.to_string());
        let mut response = problem.error_response();
        if let Ok(value) = header::HeaderValue::from_str(challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

fn auth_of(request: &HttpRequest) -> Option<&Auth> {
    request.app_data::<web::Data<ApiState>>().map(|state| state.auth.as_ref())
}

/// A request allowed to read. `token` names the token used, if any.
#[derive(Debug, Clone)]
pub struct Reader {
    pub token: Option<String>,
}

/// A request with an admin token.
#[derive(Debug, Clone)]
pub struct Admin {
    pub token: String,
}

impl FromRequest for Reader {
    type Error = AuthError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // Without state (a misconfigured app) nothing is public.
        ready(auth_of(request).map_or(Err(AuthError::Missing), |auth| auth.check_read(request)))
    }
}

impl FromRequest for Admin {
    type Error = AuthError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(auth_of(request).map_or(Err(AuthError::Missing), |auth| auth.check_admin(request)))
    }
}

/// Middleware: every request of the wrapped scope needs read access.
pub async fn require_read(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let checked = auth_of(request.request()).map_or(Err(AuthError::Missing), |auth| auth.check_read(request.request()));
    match checked {
        Ok(_) => Ok(next.call(request).await?.map_into_boxed_body()),
        Err(error) => Ok(request.into_response(error.error_response())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn auth() -> Auth {
        Auth::new(false).with_token("reader", "r-secret", &[Scope::Read]).with_token(
            "admin",
            "a-secret",
            &[Scope::Read, Scope::Admin],
        )
    }

    fn with(token: Option<&str>) -> HttpRequest {
        let mut request = TestRequest::default();
        if let Some(token) = token {
            request = request.insert_header((header::AUTHORIZATION, token.to_owned()));
        }
        request.to_http_request()
    }

    #[test]
    fn the_access_matrix() {
        let auth = auth();
        assert_eq!(auth.check_read(&with(None)).err(), Some(AuthError::Missing));
        assert!(auth.check_read(&with(Some("Bearer r-secret"))).is_ok());
        assert!(auth.check_read(&with(Some("bearer a-secret"))).is_ok());
        assert_eq!(auth.check_read(&with(Some("Bearer wrong"))).err(), Some(AuthError::Invalid));
        assert_eq!(auth.check_read(&with(Some("Basic r-secret"))).err(), Some(AuthError::Invalid));
        assert_eq!(auth.check_read(&with(Some("Bearer"))).err(), Some(AuthError::Invalid));
        assert_eq!(auth.check_admin(&with(Some("Bearer r-secret"))).err(), Some(AuthError::Forbidden));
        assert_eq!(auth.check_admin(&with(None)).err(), Some(AuthError::Missing));
        assert_eq!(
            auth.check_admin(&with(Some("Bearer a-secret"))).map(|admin| admin.token).ok(),
            Some("admin".into())
        );
        let public = Auth::new(true).with_token("reader", "r-secret", &[Scope::Read]);
        assert!(public.check_read(&with(None)).is_ok());
        assert_eq!(public.check_read(&with(Some("Bearer wrong"))).err(), Some(AuthError::Invalid));
    }

    #[test]
    fn debug_output_names_tokens_but_never_shows_them() {
        let text = format!("{:?}", auth());
        assert!(text.contains("reader") && !text.contains("secret"), "{text}");
    }
}
