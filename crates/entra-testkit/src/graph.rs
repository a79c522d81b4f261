//! Microsoft Graph: `/v1.0/me` and `getMemberObjects`.

use wiremock::{Request, ResponseTemplate};

use crate::state::State;

pub(crate) fn me(_s: &State, _req: &Request) -> ResponseTemplate {
    ResponseTemplate::new(501)
}

pub(crate) fn member_objects(_s: &State, _req: &Request, _id: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(501)
}
