//! `/msp/about.php` (Qualys API v1 User Guide, "About"): versions; the cheapest authenticated call.

use http::Response;

use crate::server::{ApiRequest, SimBody, xml_response};
use crate::xmlw::Xml;

/// `/msp/about.php`, answered with `ABOUT`.
pub static ROUTE: super::Route =
    super::Route { path: "/msp/about.php", root: "ABOUT", serve: |_, req, _| about(req) };

pub fn about(req: &ApiRequest) -> Response<SimBody> {
    if let Some(r) = super::unknown_params(req, &[]) {
        return r;
    }
    // Shape: unverified (ABOUT with API-VERSION, WEB-VERSION, SCANNER-VERSION, VULNSIGS-VERSION as
    // the v1 guide's sample is remembered; the field notes do not record it).
    let mut x = Xml::with_doctype("ABOUT", &format!("{}/about.dtd", req.base_url));
    x.open("ABOUT");
    x.text("API-VERSION", "API Version: 2.0");
    x.text("WEB-VERSION", "10.30.1-1");
    x.text("SCANNER-VERSION", "13.4.12-1");
    x.text("VULNSIGS-VERSION", "2.6.100-2");
    x.close("ABOUT");
    xml_response(200, x.out)
}
