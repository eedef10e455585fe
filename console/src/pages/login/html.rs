//! The login form.

use maud::{html, Markup};

use crate::pages::{layout, PageContext, Section};

/// `token` is the login form's CSRF token; `next` where to go afterwards.
pub fn render(token: &str, next: &str, error: Option<&str>, has_users: bool) -> Markup {
    let body = html! {
        section.login {
            h1 { "Log in" }
            @if !has_users {
                p.error { "No operator can log in: add [[console.users]] to the configuration (skyline hash-password makes the hash)." }
            }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form #login method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label { "Name " input type="text" name="username" autocomplete="username" required autofocus; }
                label { "Password " input type="password" name="password" autocomplete="current-password" required; }
                button.primary type="submit" { "Log in" }
            }
        }
    };
    layout(&PageContext::default(), "Log in", Section::None, body)
}
