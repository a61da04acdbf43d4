//! Rendered proofs read back with independent readers: Excel workbooks with calamine (the same
//! values, of the same types, as the proof; formula-like text stays text; the metadata sheet),
//! PDFs with poppler's pdftotext and pdfdetach and with qpdf (every row and script, the attached
//! proof, verification).

mod pdf;
mod xlsx;
