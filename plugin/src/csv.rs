//! Streaming CSV records from a response body, with `csv-core` (the core of the `csv` crate,
//! without serde or allocation of its own): one record at a time, memory bounded by the
//! longest record, whatever the body's size.

use std::io::BufRead;

use crate::error::Error;
use crate::xml::MAX_TEXT_BYTES;

/// Most fields a record may have (Qualys' CSV outputs have a few dozen at most).
const MAX_FIELDS: usize = 256;

/// Reads the records of a CSV body.
pub struct Records<'a> {
    body: &'a mut dyn BufRead,
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    done: bool,
}

impl<'a> Records<'a> {
    /// Records of `body`; line ends may be LF or CRLF, mixed.
    pub fn new(body: &'a mut dyn BufRead) -> Records<'a> {
        Records { body, reader: csv_core::Reader::new(), out: vec![0; 4096], ends: vec![0; 16], done: false }
    }

    /// The next record's fields, or `None` at the end of the body.
    pub fn next_record(&mut self) -> Result<Option<Vec<String>>, Error> {
        use csv_core::ReadRecordResult::*;
        if self.done {
            return Ok(None);
        }
        let (mut out_len, mut ends_len) = (0, 0);
        loop {
            let input = self.body.fill_buf().map_err(read_error)?;
            let (result, read, written, ended) =
                self.reader.read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..]);
            self.body.consume(read);
            out_len += written;
            ends_len += ended;
            match result {
                InputEmpty => {}
                OutputFull => {
                    if self.out.len() >= MAX_TEXT_BYTES {
                        return Err(Error::malformed(format!(
                            "a CSV record of the response is longer than {} MiB",
                            MAX_TEXT_BYTES >> 20
                        )));
                    }
                    let len = self.out.len() * 2;
                    self.out.resize(len, 0);
                }
                OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        return Err(Error::malformed(format!(
                            "a CSV record of the response has more than {MAX_FIELDS} fields"
                        )));
                    }
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                Record => return self.fields(out_len, ends_len).map(Some),
                End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    fn fields(&self, out_len: usize, ends_len: usize) -> Result<Vec<String>, Error> {
        let bytes = &self.out[..out_len];
        let mut start = 0;
        let mut fields = Vec::with_capacity(ends_len);
        for &end in &self.ends[..ends_len] {
            let text = std::str::from_utf8(&bytes[start..end])
                .map_err(|_| Error::malformed("a CSV field of the response is not UTF-8"))?;
            fields.push(text.to_string());
            start = end;
        }
        Ok(fields)
    }
}

fn read_error(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => Error::Denied(format!("reading the response stopped: {e}")),
        std::io::ErrorKind::InvalidData => {
            Error::malformed(format!("the response was refused while it was read: {e}"))
        }
        _ => Error::Transport(format!("reading the response failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Vec<String>> {
        let mut body = text.as_bytes();
        let mut r = Records::new(&mut body);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec);
        }
        out
    }

    #[test]
    fn mixed_line_ends_quotes_and_newlines_inside_fields_are_read() {
        let recs = all("----BEGIN\n\"a\",\"b \"\"q\"\"\"\r\n\"multi\nline\",\"\"\r\n----END\n");
        assert_eq!(recs[0], ["----BEGIN"]);
        assert_eq!(recs[1], ["a", "b \"q\""]);
        assert_eq!(recs[2], ["multi\nline", ""]);
        assert_eq!(recs[3], ["----END"]);
    }

    #[test]
    fn a_record_longer_than_the_bound_is_refused() {
        let long = format!("\"{}\"\r\n", "x".repeat(MAX_TEXT_BYTES + 1));
        let mut body = long.as_bytes();
        let mut r = Records::new(&mut body);
        assert!(matches!(r.next_record(), Err(Error::Malformed(_))));
    }
}
