//! The headless-Chromium harness end to end: a tiny axum page on 127.0.0.1,
//! driven by `console/e2e/smoke.js` through `support/browser.rs`.

#[path = "support/browser.rs"]
mod browser;

use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>skyline harness smoke</title>
<style>
  body { font: 16px/1.4 sans-serif; margin: 2em; }
  #status { margin-top: 1em; padding: .5em; background: #eef; }
</style>
</head>
<body>
<h1>Harness smoke</h1>
<form id="form" onsubmit="return false">
  <label>Name <input id="name" name="name"></label>
  <button id="go" type="button">Greet</button>
</form>
<p id="status">waiting</p>
<!--EXTRA-->
<script>
  document.getElementById('go').addEventListener('click', function () {
    document.getElementById('status').textContent =
      'hello, ' + document.getElementById('name').value;
  });
</script>
</body>
</html>
"#;

#[derive(Deserialize)]
struct PageQuery {
    offhost: Option<String>,
}

async fn page(Query(q): Query<PageQuery>) -> Html<String> {
    // ?offhost=1 adds an image from a documentation address (TEST-NET-1): a
    // request the harness must refuse and fail the scenario for.
    let extra = if q.offhost.is_some() {
        r#"<img src="http://192.0.2.1/pixel.png" alt="">"#
    } else {
        ""
    };
    Html(PAGE.replace("<!--EXTRA-->", extra))
}

/// Serves [`PAGE`] on 127.0.0.1:<free port> for as long as the runtime lives.
fn serve() -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/", get(page));
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (rt, format!("http://{addr}/"))
}

#[test]
fn a_click_changes_the_text_and_leaves_a_screenshot() {
    let (_rt, url) = serve();
    let shot = browser::screenshots_dir().join("smoke.png");
    let _ = std::fs::remove_file(&shot);

    browser::run_scenario("smoke.js", &[("SKYLINE_SMOKE_URL", url)]).assert_success();

    let len = std::fs::metadata(&shot)
        .unwrap_or_else(|e| panic!("{}: {e}", shot.display()))
        .len();
    assert!(len > 0, "{} is empty", shot.display());
}

#[test]
fn a_request_off_loopback_fails_the_scenario() {
    let (_rt, url) = serve();
    let run = browser::run_scenario(
        "smoke.js",
        &[("SKYLINE_SMOKE_URL", format!("{url}?offhost=1"))],
    );
    assert!(!run.success(), "an off-host request went unnoticed");
    assert!(
        run.stderr.contains("non-loopback") && run.stderr.contains("192.0.2.1"),
        "the failure does not name the off-host request:\n{}",
        run.stderr
    );
}
