//! The floor of the cold-start benchmark (benches/coldstart.rs): a lambda_http hello world (no
//! SDK, no TLS, no I/O), so that what exec, the loader and the runtime cost alone is measured
//! next to the function and the baseline.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_event: Request| async {
        Ok::<_, Error>(
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from("{}"))?,
        )
    }))
    .await
}
