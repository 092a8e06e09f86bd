//! Reading a request body without holding more than the broker will ever parse, with the
//! same capped reader that reads the identity provider's replies ([`cctoken::js::read_capped`]):
//! a declared length over the limit is refused unread, and a body without one (chunked) is
//! abandoned as soon as it passes the limit, so a caller cannot make an isolate buffer
//! megabytes before being told 413.

use cctoken::js::BodyTooLarge;
use worker::{Request, Result};

/// The body, or [`BodyTooLarge`] once it is known to exceed `max` bytes.
pub async fn read_capped(
    request: &mut Request,
    max: usize,
) -> Result<std::result::Result<Vec<u8>, BodyTooLarge>> {
    Ok(cctoken::js::read_capped(request.inner(), max).await?)
}
