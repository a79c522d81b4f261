//! The token endpoint.

use wiremock::{Request, ResponseTemplate};

use crate::router::Segment;
use crate::state::State;

pub(crate) fn token(_s: &mut State, _req: &Request, _segment: &Segment) -> ResponseTemplate {
    ResponseTemplate::new(501)
}
