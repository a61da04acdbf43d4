//! Qualys' error documents, one function per shape, each citing where the shape comes from
//! (real: a recorded response of a live server; doc: Qualys documentation or DTD; sdk: what
//! public clients parse; unverified: nobody has shown it). See the project's field notes.

use bytes::Bytes;
use http::{Response, StatusCode};

use crate::server::{SimBody, xml_response};
use crate::xmlw::{Xml, escape};

/// The text of the simulator's own internal-error documents.
pub const INTERNAL_ERROR: &str = "Internal error. Please contact customer support.";

/// An API v2+ error: `SIMPLE_RETURN (REQUEST?, RESPONSE (DATETIME, CODE?, TEXT, ITEM_LIST?))`.
// Shape: doc (simple_return.dtd, Qualys API (VM, PC) User Guide "API error codes").
// real: a bad parameter is HTTP 400 code 1905, and that document begins with the DOCTYPE and has
// no XML declaration; so every HTTP 400 answer is written that way. Other statuses keep the
// declaration (unverified either way).
pub fn simple_return(status: u16, code: u32, text: &str, base: &str) -> Response<SimBody> {
    let dtd = format!("{base}/api/2.0/simple_return.dtd");
    let mut x = if status == 400 {
        Xml::doctype_only("SIMPLE_RETURN", &dtd)
    } else {
        Xml::with_doctype("SIMPLE_RETURN", &dtd)
    };
    x.open("SIMPLE_RETURN").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    x.text("CODE", &code.to_string()).text("TEXT", text);
    x.close("RESPONSE").close("SIMPLE_RETURN");
    xml_response(status, x.out)
}

/// An API v1 (`/msp/`) error: `GENERIC_RETURN` with `RETURN status="FAILED" number="N"`.
// Shape: sdk (public clients read GENERIC_RETURN/RETURN@status,@number, e.g. for code 2007);
// the `API` child follows generic_return.dtd as remembered (unverified).
pub fn generic_return(status: u16, number: u32, text: &str, base: &str) -> Response<SimBody> {
    let mut x = Xml::with_doctype("GENERIC_RETURN", &format!("{base}/generic_return.dtd"));
    x.open("GENERIC_RETURN");
    x.raw(&format!("<API name=\"\" username=\"\" at=\"{}\" />\n", crate::data::now_qualys()));
    x.raw(&format!("<RETURN status=\"FAILED\" number=\"{number}\">{}</RETURN>\n", escape(text)));
    x.close("GENERIC_RETURN");
    xml_response(status, x.out)
}

/// A v1 script's error inside its normal root: `<ROOT><ERROR number="N">text</ERROR></ROOT>`,
/// with HTTP 200.
// Shape: sdk + doc (`USER_LIST_OUTPUT (ERROR | USER_LIST)`; one copy of the v1 guide shows
// `REMEDIATION_TICKETS (ERROR | (HEADER, ...))`). For ABOUT: unverified, by analogy.
pub fn error_in_root(root: &str, dtd_url: &str, number: u32, text: &str) -> Response<SimBody> {
    let mut x = Xml::with_doctype(root, dtd_url);
    x.open(root);
    x.raw(&format!("<ERROR number=\"{number}\">{}</ERROR>\n", escape(text)));
    x.close(root);
    xml_response(200, x.out)
}

/// Qualys' answer to bad credentials, an SSO user, or a user without API access, on API v1/v2
/// paths: HTTP 401, SIMPLE_RETURN code 2000 "Bad Login/Password".
// unverified: widely assumed, no public capture of the body; what Qualys answers an SSO user or a
// user without API access is unverified too (the simulator answers them the same way).
pub fn unauthorized() -> Response<SimBody> {
    let mut x = Xml::with_doctype("SIMPLE_RETURN", "/api/2.0/simple_return.dtd");
    x.open("SIMPLE_RETURN").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    x.text("CODE", "2000").text("TEXT", "Bad Login/Password");
    x.close("RESPONSE").close("SIMPLE_RETURN");
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header("content-type", "text/xml;charset=UTF-8")
        .header("www-authenticate", "Basic realm=\"MSP Portal\"")
        .body(SimBody::Full(Some(Bytes::from(x.out))))
        .expect("valid response")
}

/// A QPS (`/qps/`) error: HTTP 200, `ServiceResponse (responseCode, responseErrorDetails
/// (errorMessage, errorResolution))`.
// real: recorded QPS responses carry UNAUTHORIZED, INVALID_CREDENTIALS and INVALID_REQUEST this
// way, with HTTP 200. The message and resolution texts are the simulator's own (unverified),
// except UNAUTHORIZED's message (real).
pub fn service_error(code: &str, message: &str, resolution: &str) -> Response<SimBody> {
    let mut x = Xml::default();
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.open("ServiceResponse");
    x.text("responseCode", code);
    x.open("responseErrorDetails")
        .text("errorMessage", message)
        .text("errorResolution", resolution)
        .close("responseErrorDetails");
    x.close("ServiceResponse");
    xml_response(200, x.out)
}

/// QPS' answer to bad credentials (and to SSO or no-API users, refused like a bad password).
// real: INVALID_CREDENTIALS with HTTP 200 (see `service_error`); texts unverified.
pub fn qps_invalid_credentials() -> Response<SimBody> {
    service_error(
        "INVALID_CREDENTIALS",
        "Bad Login/Password",
        "Check the user name and password, and that the user may use the API.",
    )
}

/// QPS' answer to a user without Asset Management API rights.
// real: responseCode UNAUTHORIZED with this errorMessage; the resolution text is unverified.
pub fn qps_unauthorized() -> Response<SimBody> {
    service_error(
        "UNAUTHORIZED",
        "You are not authorized to access the application through the API.",
        "The user needs Asset Management API access (a Manager-type role with READER, Reporting Reader, Unified Dashboard User and VM User).",
    )
}
