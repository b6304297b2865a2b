//! The access log line: method, path, query and status, with credentials a client put into the query (a token, a
//! password, a key) masked; the API never reads them there, but a log must not keep them either.

use actix_web::dev::ServiceRequest;
use actix_web::middleware::Logger;

/// `GET /api/v1/papers?limit=10 HTTP/1.1 200 1.2ms`, as before, minus secrets.
pub fn logger() -> Logger {
    Logger::new("%{request}xi %s %Dms").custom_request_replace("request", |request: &ServiceRequest| {
        let query = masked_query(request.query_string());
        let separator = if query.is_empty() { "" } else { "?" };
        format!("{} {}{separator}{query} {:?}", request.method(), request.path(), request.version())
    })
}

/// The query with the value of every parameter whose name suggests a credential replaced by `***`.
pub fn masked_query(query: &str) -> String {
    const SECRET_NAMES: [&str; 5] = ["token", "password", "passwd", "secret", "key"];
    query
        .split('&')
        .map(|parameter| match parameter.split_once('=') {
            Some((name, _)) if SECRET_NAMES.iter().any(|secret| name.to_ascii_lowercase().contains(secret)) => {
                format!("{name}=***")
            }
            _ => parameter.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::masked_query;

    #[test]
    fn credentials_in_the_query_are_masked() {
        assert_eq!(masked_query("limit=10&access_token=abc&q=x"), "limit=10&access_token=***&q=x");
        assert_eq!(masked_query("API_KEY=1&password=2"), "API_KEY=***&password=***");
        assert_eq!(masked_query("sort=name"), "sort=name");
        assert_eq!(masked_query(""), "");
    }
}
