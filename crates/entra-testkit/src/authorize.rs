//! The authorize and logout endpoints.

use wiremock::{Request, ResponseTemplate};

use crate::router::Segment;
use crate::state::State;

pub(crate) fn authorize(_s: &mut State, _req: &Request, _segment: &Segment) -> ResponseTemplate {
    ResponseTemplate::new(501)
}

pub(crate) fn logout(_s: &State, _req: &Request) -> ResponseTemplate {
    ResponseTemplate::new(501)
}
