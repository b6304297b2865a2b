//! CORS for the browser pages of configured origins (`[server] cors_origins`), through actix-cors.
//!
//! Without origins the middleware is off: no CORS headers at all, browsers keep other sites' pages out. With
//! origins, a page from one of them may read the API with GET/HEAD and trigger runs with POST, send the
//! `Authorization` header (Bearer tokens; no cookies, so no credentials mode), and read the headers clients need
//! (ETag, Link of exports, Location of a triggered run). Requests from other origins are still served (curl and
//! servers send no Origin), only without `Access-Control-Allow-Origin`, so browsers withhold the answer.

use actix_cors::Cors;
use actix_web::http::{header, Method};
use actix_web::middleware::Condition;

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE_SECONDS: usize = 3600;

/// The CORS middleware for `origins` (checked with [`check_origin`] first); off when there are none.
pub fn middleware(origins: &[String]) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::HEAD, Method::POST])
        .allowed_headers([header::AUTHORIZATION, header::ACCEPT, header::CONTENT_TYPE, header::IF_NONE_MATCH])
        .expose_headers([
            header::ETAG,
            header::LINK,
            header::LOCATION,
            header::CONTENT_DISPOSITION,
            header::WWW_AUTHENTICATE,
            header::ALLOW,
        ])
        .max_age(PREFLIGHT_MAX_AGE_SECONDS);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!origins.is_empty(), cors)
}

/// Checks an origin as browsers send it in `Origin`: `scheme://host` or `scheme://host:port`, scheme `http` or
/// `https`, lower case, no path, no default port. Returns why it is not one.
pub fn check_origin(origin: &str) -> Result<(), String> {
    let example = "e.g. \"https://schulen.example.de\" or \"http://localhost:3000\"";
    if origin == "*" {
        return Err(format!("`*` is not accepted: list the origins whose pages may call the API ({example})"));
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return Err(format!("`{origin}` is not an origin: it needs a scheme and a host ({example})"));
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("`{origin}`: the scheme must be http or https"));
    }
    if authority.contains(['/', '?', '#']) {
        return Err(format!("`{origin}`: an origin has no path, query or trailing slash ({example})"));
    }
    if authority.contains('@') {
        return Err(format!("`{origin}`: an origin has no user name or password"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 literal without a port: the last colon is inside the brackets.
        Some((host, port)) if !port.ends_with(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let host_ok = if let Some(address) = host.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        !address.is_empty() && address.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if !host_ok {
        return Err(format!("`{origin}`: `{host}` is not a host name or IP address"));
    }
    if host.chars().any(|c| c.is_ascii_uppercase()) || scheme.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("`{origin}`: write it in lower case, as browsers send it"));
    }
    if let Some(port) = port {
        let number: u16 = port
            .parse()
            .ok()
            .filter(|number| *number > 0)
            .ok_or_else(|| format!("`{origin}`: the port `{port}` is not a number from 1 to 65535"))?;
        if (scheme, number) == ("http", 80) || (scheme, number) == ("https", 443) {
            return Err(format!("`{origin}`: leave out the default port {number} (browsers do not send it)"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_origin;

    #[test]
    fn origins_are_what_browsers_send() {
        for good in [
            "https://schulen.example.de",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "https://[::1]:8443",
            "http://[::1]",
            "https://xn--hankensbttel-5ob.de",
        ] {
            assert_eq!(check_origin(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("*", "not accepted"),
            ("schulen.example.de", "needs a scheme"),
            ("ftp://example.de", "scheme"),
            ("https://example.de/", "no path"),
            ("https://example.de/app", "no path"),
            ("https://user@example.de", "user name"),
            ("https://", "not a host"),
            ("https://exa mple.de", "not a host"),
            ("https://-x.de", "not a host"),
            ("https://Example.de", "lower case"),
            ("https://example.de:443", "default port"),
            ("http://example.de:80", "default port"),
            ("https://example.de:0", "port"),
            ("https://example.de:99999", "port"),
            ("https://example.de:", "port"),
        ] {
            let error = check_origin(bad).expect_err(bad);
            assert!(error.contains(reason), "{bad}: {error}");
        }
    }
}
