//! The body as the XML reader reads it: copied chunk by chunk, with every run without a `<`
//! bounded.

use std::io::BufRead;

use super::MAX_TEXT_BYTES;

/// The body as quick-xml reads it. quick-xml calls `fill_buf` and `consume` several times
/// per event; on the caller's `&mut dyn BufRead` each is an indirect call that cannot be
/// inlined (in wasm a `call_indirect` with its checks). Copying each chunk of the body into a
/// buffer of our own makes those calls direct and inlinable, for one dynamic call and one bulk
/// copy per chunk instead of several dynamic calls per event.
///
/// It also bounds what quick-xml would buffer for one event: whitespace, a comment, an
/// attribute list or a text run longer than [`MAX_RUN_BYTES`] without a `<` is refused as it
/// streams in, instead of growing the parser's buffer to the size of the response.
pub(super) struct Chunks<'a> {
    inner: &'a mut dyn BufRead,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Bytes taken since the last `<`.
    run: usize,
}

/// The longest run of a document without a `<` (twice the longest text kept, [`MAX_TEXT_BYTES`]).
pub const MAX_RUN_BYTES: usize = 2 * MAX_TEXT_BYTES;

/// Bytes taken from the body at a time (the transport reads 64 KiB at a time too).
const CHUNK: usize = 64 * 1024;

impl<'a> Chunks<'a> {
    pub(super) fn new(inner: &'a mut dyn BufRead) -> Chunks<'a> {
        Chunks { inner, buf: Vec::new(), pos: 0, len: 0, run: 0 }
    }

    /// Takes the next chunk; kept out of line so that `fill_buf` inlines into quick-xml.
    #[inline(never)]
    fn refill(&mut self) -> std::io::Result<()> {
        let available = self.inner.fill_buf()?;
        let n = available.len().min(CHUNK);
        if self.buf.len() < n {
            self.buf.resize(CHUNK.min(n.next_power_of_two()), 0);
        }
        self.buf[..n].copy_from_slice(&available[..n]);
        self.inner.consume(n);
        (self.pos, self.len) = (0, n);
        // The run ending at this chunk's first `<` is checked before a later `<` restarts it.
        let chunk = &self.buf[..n];
        let ended = match chunk.iter().position(|b| *b == b'<') {
            Some(first) => {
                let ended = self.run + first;
                self.run = n - 1 - chunk.iter().rposition(|b| *b == b'<').unwrap_or(first);
                ended
            }
            None => {
                self.run += n;
                self.run
            }
        };
        if ended > MAX_RUN_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "more than {} MiB without markup (whitespace, a comment, an attribute list or text): \
                     not an answer Qualys gives",
                    MAX_RUN_BYTES >> 20
                ),
            ));
        }
        Ok(())
    }
}

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Chunks<'_> {
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos == self.len {
            self.refill()?;
        }
        Ok(&self.buf[self.pos..self.len])
    }

    #[inline]
    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.len);
    }
}
