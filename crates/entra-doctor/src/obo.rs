//! `entra-doctor check --obo`: validate a user token as the API would, exchange
//! it On-Behalf-Of with entra-obo, and explain what Entra answered.

use std::time::{Instant, SystemTime};

use entra_core::{Secret, Target};
use entra_jwks::Validator;
use entra_obo::{Error as OboError, Obo};

use crate::aadsts::{ErrorInput, report as explain_response};
use crate::check::{CheckOptions, Progress, Status, Step};
use crate::config::{Config, Setting};
use crate::jwt::Unverified;
use crate::report::chain;
use crate::validate::{advise, rule};
use entra_core::words;

pub(crate) async fn step(
    config: &Config,
    validator: Option<&Validator>,
    token: &Secret,
    options: &CheckOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Step {
    let step =
        |status, detail: String, remedy: Option<String>| Step::new("obo", status, detail, remedy);
    let raw = token.expose_secret().trim();
    let decoded = match Unverified::decode(raw) {
        Ok(d) => d,
        Err(e) => {
            return step(
                Status::Problem,
                format!("the user token: {e}"),
                Some(
                    "put the access token the API received (the text after `Bearer `) in the file"
                        .into(),
                ),
            );
        }
    };
    let Some(validator) = validator else {
        return step(
            Status::NotChecked,
            "the validator could not be built, so the user token cannot be validated before the exchange".into(),
            Some("fix the validator step first".into()),
        );
    };
    let user_token = match validator.validate(raw).await {
        Ok(t) => t,
        Err(e) => {
            let predicted = match &e {
                entra_jwks::Error::ForGraph | entra_jwks::Error::InvalidAudience => {
                    " (Entra would answer AADSTS50013)"
                }
                entra_jwks::Error::Expired { .. } => " (Entra would answer AADSTS500133)",
                _ => "",
            };
            let status = if e.is_transient() { Status::NotChecked } else { Status::Problem };
            return step(
                status,
                format!(
                    "the user token is refused before any exchange, by rule `{}`: {}{predicted}",
                    rule(&e),
                    chain(&e)
                ),
                Some(advise(&e, Some(&decoded), validator)),
            );
        }
    };
    let credential = match config.credential() {
        Ok(Some(c)) => c,
        Ok(None) => {
            return step(
                Status::Problem,
                "no client credential is configured".into(),
                Some(format!(
                    "On-Behalf-Of needs the API's own credential: set {} or {}",
                    Setting::ClientSecret.display(),
                    Setting::ClientCertificatePath.display()
                )),
            );
        }
        Err(e) => return step(Status::Problem, chain(&e), None),
    };
    let (authority, client_id) = match (config.authority(), config.client_id()) {
        (Ok(a), Ok(c)) => (a, c),
        (Err(e), _) | (_, Err(e)) => return step(Status::Problem, e.to_string(), None),
    };
    let target_text =
        options.obo_target.clone().unwrap_or_else(|| authority.cloud().graph_base().to_owned());
    let target = parse_target(&target_text);
    let obo = match Obo::builder(authority.clone(), client_id, credential)
        .clock(options.clock.clone())
        .max_attempts(1)
        .request_timeout(options.timeout)
        .build()
    {
        Ok(o) => o,
        Err(e) => return step(Status::Problem, chain(&e), None),
    };
    let detail = format!("POST {} (On-Behalf-Of for {target_text})", authority.token_url());
    progress(Progress::Started { step: "obo", detail: &detail });
    let started = Instant::now();
    let out = match obo.exchange_on_behalf_of(&user_token, target).await {
        Ok(token) => {
            let left = token
                .expires_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .map(|exp| words::expiry(exp, options.clock.unix_now()))
                .unwrap_or_default();
            step(
                Status::Ok,
                format!(
                    "{detail}: Entra issued a token with scopes {}; it {left}",
                    crate::report::list(&token.scopes)
                ),
                None,
            )
        }
        Err(e) => failed(&detail, &e),
    }
    .timed(started);
    progress(Progress::Finished {
        step: "obo",
        status: out.status,
        millis: out.millis.unwrap_or(0),
    });
    out
}

fn failed(detail: &str, e: &OboError) -> Step {
    let transient = matches!(
        e,
        OboError::Throttled { .. } | OboError::Unavailable { .. } | OboError::Transport(_)
    );
    let mut step = Step::new(
        "obo",
        if transient { Status::NotChecked } else { Status::Problem },
        format!("{detail}: {}", chain(e)),
        None,
    );
    if let Some(response) = e.entra_response() {
        let report = explain_response(ErrorInput::Json, response.clone(), None);
        step.remedy = Some(report.remedy.clone());
        step.entra_error = Some(report);
    } else if matches!(e, OboError::AppOnlyToken { .. }) {
        step.remedy = Some(
            "On-Behalf-Of needs a user's delegated token; an app-only token (client credentials) cannot be exchanged (Entra answers AADSTS7000114)".into(),
        );
    }
    step
}

/// A resource (`https://graph.microsoft.com`, `api://<id>`, a GUID) or scopes.
fn parse_target(text: &str) -> Target {
    let items: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    if let [one] = items.as_slice() {
        let is_resource = entra_core::ClientId::parse(one).is_ok()
            || url::Url::parse(one)
                .is_ok_and(|u| u.has_host() && matches!(u.path(), "" | "/") && u.query().is_none());
        if is_resource {
            return Target::Resource(one.clone());
        }
    }
    Target::Scopes(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("https://graph.microsoft.com"),
            Target::from("https://graph.microsoft.com")
        );
        assert_eq!(
            parse_target("api://6e74172b-be56-4843-9ff4-e66a39bb12e3"),
            Target::from("api://6e74172b-be56-4843-9ff4-e66a39bb12e3")
        );
        assert_eq!(parse_target("User.Read Mail.Read"), Target::from(["User.Read", "Mail.Read"]));
        assert_eq!(
            parse_target("api://x/access_as_user"),
            Target::from(["api://x/access_as_user"])
        );
    }
}
