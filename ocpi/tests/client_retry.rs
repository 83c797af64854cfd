//! The client against a tiny local axum server: retries with exponential backoff on 5xx and
//! connection errors, HTTP 429 with `Retry-After`, no retry of a POST after a 5xx, and
//! pagination followed to the end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode as Http};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ocpi::client::{parse_retry_after, Client, ClientError, RetryPolicy};
use ocpi::transport::{PageQuery, StatusCode, TokenEncoding};
use serde_json::{json, Value};

#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Counter {
    fn next(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn envelope(data: Value) -> Value {
    json!({"data": data, "status_code": 1000, "timestamp": "2024-01-01T00:00:00Z"})
}

/// Fails `fail` times with `status` (and `Retry-After` when given), then answers 1000.
fn flaky(counter: Counter, fail: usize, status: u16, retry_after: Option<&'static str>) -> Router {
    let handler = move |State(c): State<Counter>| async move {
        if c.next() < fail {
            let mut r = (
                Http::from_u16(status).unwrap(),
                axum::Json(json!({"status_code": 3000, "timestamp": "2024-01-01T00:00:00Z"})),
            )
                .into_response();
            if let Some(ra) = retry_after {
                r.headers_mut().insert("retry-after", ra.parse().unwrap());
            }
            r
        } else {
            axum::Json(envelope(json!({"ok": true}))).into_response()
        }
    };
    Router::new()
        .route("/x", get(handler).post(handler))
        .with_state(counter)
}

async fn serve(app: Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    url
}

fn client(attempts: u32, base: Duration, max_delay: Duration) -> Client {
    let mut c = Client::new("token", TokenEncoding::Base64);
    c.retry = RetryPolicy {
        attempts,
        base,
        max_delay,
    };
    c
}

/// Runs a future with a generous bound, so a wrong wait fails the test instead of hanging.
async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("finished within the bound")
}

#[tokio::test(flavor = "current_thread")]
async fn retries_5xx_with_backoff_then_succeeds() {
    let c = Counter::default();
    let url = serve(flaky(c.clone(), 2, 503, None)).await;
    let cl = client(4, Duration::from_millis(1), Duration::from_millis(10));
    let v: Value = bounded(cl.get(&format!("{url}/x"))).await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(c.get(), 3, "two failures, then the answer");
}

#[tokio::test(flavor = "current_thread")]
async fn gives_up_after_the_attempts() {
    let c = Counter::default();
    let url = serve(flaky(c.clone(), usize::MAX, 500, None)).await;
    let cl = client(3, Duration::from_millis(1), Duration::from_millis(10));
    let e = bounded(cl.get::<Value>(&format!("{url}/x")))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(500));
    assert_eq!(e.status_code(), Some(StatusCode::SERVER_ERROR));
    assert_eq!(c.get(), 3);
}

#[tokio::test(flavor = "current_thread")]
async fn a_post_is_not_retried_after_a_5xx() {
    let c = Counter::default();
    let url = serve(flaky(c.clone(), 1, 502, None)).await;
    let cl = client(4, Duration::from_millis(1), Duration::from_millis(10));
    let e = bounded(cl.send(reqwest::Method::POST, &format!("{url}/x"), Some(&json!({}))))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(502));
    assert_eq!(c.get(), 1, "a POST may have had its effect");
}

#[tokio::test(flavor = "current_thread")]
async fn honours_retry_after_on_429() {
    // The backoff delay is an hour: only Retry-After (0 s) lets the retry happen in time.
    let c = Counter::default();
    let url = serve(flaky(c.clone(), 1, 429, Some("0"))).await;
    let cl = client(3, Duration::from_secs(3600), Duration::from_secs(3600));
    let v: Value = bounded(cl.get(&format!("{url}/x"))).await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(c.get(), 2);
    // A POST is retried after a 429 too: the server did not process it.
    let c = Counter::default();
    let url = serve(flaky(c.clone(), 1, 429, Some("0"))).await;
    let status = bounded(cl.send(reqwest::Method::POST, &format!("{url}/x"), Some(&json!({}))))
        .await
        .unwrap();
    assert_eq!((status, c.get()), (200, 2));
}

#[tokio::test(flavor = "current_thread")]
async fn a_retry_after_longer_than_max_delay_is_not_cut_short() {
    let c = Counter::default();
    let url = serve(flaky(c.clone(), 1, 429, Some("120"))).await;
    let cl = client(3, Duration::from_millis(1), Duration::from_secs(5));
    let e = bounded(cl.get::<Value>(&format!("{url}/x")))
        .await
        .unwrap_err();
    match e {
        ClientError::RateLimited { retry_after } => {
            assert_eq!(retry_after, Duration::from_secs(120))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(c.get(), 1, "no request before the server allows it");
}

#[tokio::test(flavor = "current_thread")]
async fn retries_connection_errors() {
    // A port nobody listens on.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let cl = client(3, Duration::from_millis(1), Duration::from_millis(10));
    let e = bounded(cl.get::<Value>(&format!("http://{addr}/x")))
        .await
        .unwrap_err();
    match e {
        ClientError::Http(e) => assert!(e.is_connect(), "{e}"),
        other => panic!("unexpected {other:?}"),
    }
    // The server comes up while the client backs off: the request succeeds.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let c = Counter::default();
    let app = flaky(c.clone(), 0, 200, None);
    let cl = client(10, Duration::from_millis(50), Duration::from_millis(400));
    let late = format!("http://{addr}/x");
    let (r, _) = tokio::join!(cl.get::<Value>(&late), async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let l = tokio::net::TcpListener::bind(addr).await.unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
    });
    assert_eq!(r.unwrap()["ok"], true);
    assert_eq!(c.get(), 1);
}

#[derive(serde::Deserialize)]
struct Page {
    offset: Option<usize>,
    limit: Option<usize>,
    date_from: Option<String>,
}

#[tokio::test(flavor = "current_thread")]
async fn follows_pagination_to_the_end() {
    // 7 objects in pages of 3; the Link of the last page is absent. The filter stays on every
    // page, and the Link points at another path, which the client follows as given.
    let handler = |State(base): State<Arc<std::sync::OnceLock<String>>>,
                   Query(q): Query<Page>,
                   _h: HeaderMap| async move {
        assert_eq!(q.date_from.as_deref(), Some("2024-01-01T00:00:00Z"));
        let offset = q.offset.unwrap_or(0);
        let limit = q.limit.unwrap_or(3).min(3);
        let items: Vec<Value> = (offset..7.min(offset + limit)).map(|i| json!(i)).collect();
        let mut r: Response = axum::Json(envelope(json!(items))).into_response();
        let h = r.headers_mut();
        h.insert("x-total-count", "7".parse().unwrap());
        h.insert("x-limit", limit.to_string().parse().unwrap());
        if offset + limit < 7 {
            let next = format!(
                "<{}/next?offset={}&limit={limit}&date_from=2024-01-01T00:00:00Z>; rel=\"next\"",
                base.get().unwrap(),
                offset + limit
            );
            h.insert("link", next.parse().unwrap());
        }
        r
    };
    let base = Arc::new(std::sync::OnceLock::new());
    let app = Router::new()
        .route("/list", get(handler))
        .route("/next", get(handler))
        .with_state(base.clone());
    let url = serve(app).await;
    base.set(url.clone()).unwrap();
    let cl = client(1, Duration::from_millis(1), Duration::from_millis(1));
    let q = PageQuery {
        date_from: Some("2024-01-01T00:00:00Z".parse().unwrap()),
        limit: Some(100),
        ..Default::default()
    };
    let (all, pages): (Vec<u32>, usize) = bounded(cl.get_all(&format!("{url}/list"), &q))
        .await
        .unwrap();
    assert_eq!(all, (0..7).collect::<Vec<_>>());
    assert_eq!(pages, 3);
}

#[tokio::test(flavor = "current_thread")]
async fn a_pagination_loop_is_an_error() {
    // A server whose second page links back to the first: the client stops with an error
    // instead of fetching (and duplicating) pages forever or returning part of the list.
    let handler = |State(base): State<Arc<std::sync::OnceLock<String>>>, Query(q): Query<Page>| async move {
        let offset = q.offset.unwrap_or(0);
        let mut r: Response = axum::Json(envelope(json!([offset]))).into_response();
        let next = if offset == 0 { 1 } else { 0 };
        let link = format!(
            "<{}/list?offset={next}&limit=1>; rel=\"next\"",
            base.get().unwrap()
        );
        r.headers_mut().insert("link", link.parse().unwrap());
        r
    };
    let base = Arc::new(std::sync::OnceLock::new());
    let app = Router::new()
        .route("/list", get(handler))
        .with_state(base.clone());
    let url = serve(app).await;
    base.set(url.clone()).unwrap();
    let cl = client(1, Duration::from_millis(1), Duration::from_millis(1));
    let q = PageQuery {
        offset: Some(0),
        limit: Some(1),
        ..Default::default()
    };
    let r: Result<(Vec<u32>, usize), _> = bounded(cl.get_all(&format!("{url}/list"), &q)).await;
    let e = r.unwrap_err();
    assert!(matches!(e, ClientError::Pagination(_)), "{e}");
    assert!(e.to_string().contains("fetched already"), "{e}");
}

#[test]
fn retry_after_values() {
    assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
    assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
    // an HTTP date in the past: no wait
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    let future = (chrono::Utc::now() + chrono::Duration::hours(1))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let wait = parse_retry_after(&future).unwrap();
    assert!(wait > Duration::from_secs(3000) && wait <= Duration::from_secs(3600));
    assert_eq!(parse_retry_after("soon"), None);
}

/// The (`X-Request-ID`, `X-Correlation-ID`) of each request the server saw.
type Seen = Arc<std::sync::Mutex<Vec<(String, String)>>>;

#[tokio::test(flavor = "current_thread")]
async fn request_ids_correlation_and_routing_headers() {
    // Fails once (503), then echoes the headers it got; remembers the request ids.
    let seen: Seen = Arc::default();
    let handler = |State(seen): State<Seen>, h: HeaderMap| async move {
        let get = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let first = {
            let mut s = seen.lock().unwrap();
            s.push((get("x-request-id"), get("x-correlation-id")));
            s.len() == 1
        };
        if first {
            return (Http::SERVICE_UNAVAILABLE, "busy").into_response();
        }
        axum::Json(envelope(json!({
            "authorization": get("authorization"),
            "to": [get("ocpi-to-country-code"), get("ocpi-to-party-id")],
            "from": [get("ocpi-from-country-code"), get("ocpi-from-party-id")],
        })))
        .into_response()
    };
    let app = Router::new()
        .route("/x", get(handler))
        .with_state(seen.clone());
    let url = serve(app).await;
    let cl = client(3, Duration::from_millis(1), Duration::from_millis(10))
        .with_routing(ocpi::transport::Routing::new(("NL", "MSP"), ("DE", "CPO")));
    let v: Value = bounded(cl.get(&format!("{url}/x"))).await.unwrap();
    assert_eq!(v["authorization"], "Token dG9rZW4=");
    assert_eq!(v["to"], json!(["DE", "CPO"]));
    assert_eq!(v["from"], json!(["NL", "MSP"]));
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_ne!(seen[0].0, seen[1].0, "a new X-Request-ID per attempt");
        assert!(!seen[0].0.is_empty());
        assert_eq!(seen[0].1, seen[1].1, "one X-Correlation-ID for the retries");
    }
    // A client for requests caused by another one keeps its correlation id.
    let cl = cl.with_correlation_id("corr-7");
    let _: Value = bounded(cl.get(&format!("{url}/x"))).await.unwrap();
    let _: Value = bounded(cl.get(&format!("{url}/x"))).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        (seen[2].1.as_str(), seen[3].1.as_str()),
        ("corr-7", "corr-7")
    );
    assert_ne!(seen[2].0, seen[3].0);
}

#[tokio::test(flavor = "current_thread")]
async fn the_observer_sees_every_attempt_without_the_token() {
    // A 429 with Retry-After 0, then 200: two exchanges, one correlation id, the status codes
    // and the Retry-After of each; a connection refused is an exchange with an error.
    let c = Counter::default();
    let url = serve(flaky(c.clone(), 1, 429, Some("0"))).await;
    let seen: Arc<std::sync::Mutex<Vec<ocpi::client::Exchange>>> = Arc::default();
    let s = seen.clone();
    let cl = client(3, Duration::from_millis(1), Duration::from_secs(5))
        .with_observer(move |x| s.lock().unwrap().push(x.clone()));
    let _: Value = bounded(cl.get(&format!("{url}/x"))).await.unwrap();
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].http_status, Some(429));
        assert_eq!(seen[0].retry_after, Some(Duration::ZERO));
        assert_eq!(
            (seen[1].http_status, seen[1].ocpi_status),
            (Some(200), Some(1000))
        );
        assert_eq!(seen[1].method, "GET");
        assert_eq!(seen[1].url, format!("{url}/x"));
        assert_ne!(seen[0].request_id, seen[1].request_id);
        assert_eq!(seen[0].correlation_id, seen[1].correlation_id);
        assert!(seen.iter().all(|x| !format!("{x:?}").contains("dG9rZW4=")));
    }
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let cl = cl.clone();
    let e = bounded(cl.get::<Value>(&format!("http://{closed}/x"))).await;
    assert!(e.is_err());
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 3);
    assert!(seen[2..]
        .iter()
        .all(|x| x.http_status.is_none() && x.error.is_some()));
}
