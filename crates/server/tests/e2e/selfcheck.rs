//! Checks of the harness itself that need no server: the browser starts, the viewport can be
//! sized to a phone width, Japanese glyphs render, and axe-core really reports violations
//! (so a clean axe result on the app's pages means something).

use crate::a11y::{assert_axe_clean, axe_violations};
use crate::harness::{Browser, assert_japanese_glyphs, js_bool, js_u64, set_viewport};

/// `data:` URL of an HTML document (percent-encoding everything but unreserved ASCII).
fn data_url(html: &str) -> String {
    let mut url = String::from("data:text/html;charset=utf-8,");
    for b in html.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[tokio::test]
async fn harness_browser_axe_and_fonts_work() {
    let browser = Browser::start().await;
    let client = &browser.client;

    // A page with two known WCAG 2.0 A failures: no lang on <html>, an image without alt.
    let bad = data_url(
        "<!doctype html><html><head><meta charset=utf-8><title>bad</title></head>\
         <body><main><h1>x</h1><img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\"></main>\
         </body></html>",
    );
    client.goto(&bad).await.expect("open the bad test page");
    let ids: Vec<String> = axe_violations(client)
        .await
        .into_iter()
        .map(|v| v.id)
        .collect();
    for expected in ["html-has-lang", "image-alt"] {
        assert!(
            ids.iter().any(|id| id == expected),
            "axe-core should report `{expected}` on a page built to fail it; it reported {ids:?}"
        );
    }

    // A clean Japanese page: no violations, glyphs render, phone width reachable.
    let good = data_url(
        "<!doctype html><html lang=\"ja\"><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\"><title>テスト</title>\
         </head><body><main><h1>つなぐ</h1><p>東京都板橋区の医療的ケア児支援</p></main></body></html>",
    );
    client.goto(&good).await.expect("open the good test page");
    assert_axe_clean(client, "self-check page").await;
    assert_japanese_glyphs(client, "self-check page", "h1, p").await;
    // The glyph check compares characters with the drawing of one unassigned code point; that
    // only detects tofu if every missing glyph draws the same box, as it does here.
    assert!(
        js_bool(
            client,
            r#"
            const c = document.createElement('canvas');
            c.width = 64; c.height = 64;
            const g = c.getContext('2d');
            function draw(ch) {
                g.fillStyle = '#fff'; g.fillRect(0, 0, 64, 64);
                g.fillStyle = '#000'; g.font = '48px sans-serif'; g.textBaseline = 'top';
                g.fillText(ch, 4, 4);
                return c.toDataURL();
            }
            return draw('\u0378') === draw('\u0379') && draw('\u0378') !== draw('\u677f');
            "#
        )
        .await,
        "unassigned code points should all draw the same .notdef box, unlike 板"
    );
    set_viewport(client, 360, 900).await;
    assert_eq!(
        js_u64(client, "return document.documentElement.clientWidth").await,
        360,
        "viewport should be 360 CSS px wide"
    );

    browser.close().await;
}
