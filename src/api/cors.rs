//! CORS, for chat widgets that call the API from their own web site's origin (`ALLOWED_ORIGINS`,
//! [`Origins`]). Deployed, the HTTP
//! API answers preflights itself (template.yaml's `CorsConfiguration`, from these constants);
//! the function answers them the same way, so that `make run` (and any server without API
//! Gateway in front) behaves as deployed. API Gateway ignores the function's CORS headers where it
//! sets its own. The bucket's rule (uploads and downloads from the page) is written here too.

use lambda_http::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Response};

use crate::config::Origins;

/// Request headers a page may send: the bearer header, JSON, and what the AWS SDK for
/// JavaScript v3 signs and adds to every request. Seen in Chromium: amazon-connect-chatjs 5.0.0
/// (its bundled SDK 3.716) preflights `authorization, content-type, x-amz-bearer,
/// x-amz-content-sha256, x-amz-date, x-amz-user-agent`; the SDK's own client adds
/// `amz-sdk-invocation-id`, `amz-sdk-request` and, with temporary credentials,
/// `x-amz-security-token`.
pub const ALLOWED_HEADERS: [&str; 9] = [
    "Content-Type",
    "X-Amz-Bearer",
    "X-Amz-Content-Sha256",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    "Authorization",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
];
/// Response headers a page may read: which request it was and which error it got.
pub const EXPOSED_HEADERS: [&str; 2] = ["x-amzn-RequestId", "X-Amzn-ErrorType"];
pub const ALLOWED_METHODS: [&str; 1] = ["POST"];
pub const MAX_AGE_SECONDS: u32 = 600;

/// The bucket's CORS rule: the page PUTs the file with the signed headers, and GETs it back.
pub const BUCKET_METHODS: [&str; 2] = ["PUT", "GET"];
pub const BUCKET_HEADERS: [&str; 2] = ["Content-Type", "If-None-Match"];
pub const BUCKET_EXPOSED_HEADERS: [&str; 1] = ["ETag"];
pub const BUCKET_MAX_AGE_SECONDS: i32 = 3000;

/// The `Access-Control-Allow-Origin` value for a request from an allowed origin.
fn allow(origins: &Origins, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    if origins.any() {
        return Some(HeaderValue::from_static("*"));
    }
    origins
        .allows(origin.to_str().ok()?)
        .then(|| origin.clone())
}

/// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`), if it is one:
/// 204, with the CORS headers only for an allowed origin (the browser then refuses the rest).
pub fn preflight(
    origins: &Origins,
    method: &Method,
    headers: &HeaderMap,
) -> Option<Response<Body>> {
    // Without origins to allow, an OPTIONS request is routed like any other (404 or 405).
    if origins.is_empty()
        || method != Method::OPTIONS
        || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return None;
    }
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Some(origin) = allow(origins, headers) {
        let out = response.headers_mut();
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        if let Ok(allowed) = HeaderValue::from_str(&ALLOWED_HEADERS.join(", ")) {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed);
        }
        out.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(MAX_AGE_SECONDS),
        );
        out.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    Some(response)
}

/// Lets an allowed origin's page read the answer and its error headers.
pub fn decorate(origins: &Origins, request: &HeaderMap, response: &mut Response<Body>) {
    if let Some(origin) = allow(origins, request) {
        let out = response.headers_mut();
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if let Ok(exposed) = HeaderValue::from_str(&EXPOSED_HEADERS.join(", ")) {
            out.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
        }
        out.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn an_allowed_origin_gets_the_preflight_headers_and_another_none() {
        let origins = Origins::parse("https://chat.example.com, http://127.0.0.1:8080/").unwrap();
        let request = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("access-control-request-method", "POST"),
        ]);
        let answer = preflight(&origins, &Method::OPTIONS, &request).unwrap();
        assert_eq!(answer.status(), 204);
        assert_eq!(
            answer.headers()["access-control-allow-origin"],
            "http://127.0.0.1:8080"
        );
        assert!(answer.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("X-Amz-Bearer"));
        let other = headers(&[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "POST"),
        ]);
        let answer = preflight(&origins, &Method::OPTIONS, &other).unwrap();
        assert!(answer
            .headers()
            .get("access-control-allow-origin")
            .is_none());
        assert!(preflight(&origins, &Method::POST, &request).is_none());
        assert!(preflight(&Origins::default(), &Method::OPTIONS, &request).is_none());
    }

    #[test]
    fn answers_expose_the_error_type_to_allowed_origins_only() {
        let origins = Origins::parse("*").unwrap();
        let mut response = Response::new(Body::Empty);
        decorate(
            &origins,
            &headers(&[("origin", "https://a.example")]),
            &mut response,
        );
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert!(response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("X-Amzn-ErrorType"));
        let mut response = Response::new(Body::Empty);
        decorate(
            &Origins::default(),
            &headers(&[("origin", "https://a.example")]),
            &mut response,
        );
        assert!(response.headers().is_empty());
        assert!(Origins::parse("chat.example.com").is_none());
    }
}
