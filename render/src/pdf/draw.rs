//! Pages: the layout of the rows (a table, or one block per record when the rows are too wide
//! for any page), the first page, the summaries and the drawing.

use std::ops::Range;

use anyhow::Context as _;
use evidence_proof::ProofFile;
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::{Document, SerializeSettings};
use serde_json::{Map, Value};

use super::text::{Fonts, NoFont};
use super::{Column, PdfOptions, Survey, TooManyPages, shown};
use crate::summary::{SHOWN_GROUPS, Split};

/// Body text size, points.
pub const BODY: f32 = 7.5;
/// Line height of body text.
const LINE: f32 = 9.2;
/// Widest a column grows, points.
pub const WIDEST: f32 = 260.0;
/// Widest word a column keeps whole (a timestamp's date or time, an address).
pub const WIDEST_WORD: f32 = 80.0;
/// Narrowest a column shrinks to before the table gives way to blocks.
const NARROWEST: f32 = 36.0;
/// Lines a value shows; the rest is in the attached proof (and the cell says so).
const MAX_VALUE_LINES: usize = 24;
/// Summaries a page holds.
pub const SUMMARIES_PER_PAGE: usize = 3;
const MARGIN: f32 = 36.0;
const PAD: f32 = 3.0;
const A4: (f32, f32) = (595.28, 841.89);
/// Height the running title and the footer take from a page of rows.
const TOP: f32 = MARGIN + 16.0;
const BOTTOM: f32 = MARGIN + 10.0;
/// Width of a block's labels.
const LABEL: f32 = 84.0;
/// Columns of label and value in a block.
const BLOCK_COLUMNS: usize = 3;

/// How the rows are laid out.
pub enum Layout {
    /// A table: columns' widths, on a landscape page when wide.
    Table { landscape: bool, widths: Vec<f32>, header: Vec<(Vec<Range<usize>>, f32)> },
    /// One block per record, fields in two columns of label and value, on landscape pages.
    Blocks,
}

fn page_size(landscape: bool) -> (f32, f32) {
    if landscape { (A4.1, A4.0) } else { A4 }
}

impl Layout {
    /// A table when every column fits at a readable width, portrait when it fits there; blocks
    /// otherwise.
    pub fn choose(survey: &Survey, fonts: &mut Fonts) -> Result<Layout, NoFont> {
        let n = survey.columns.len().max(1);
        // Each column at least its header's longest word, and never under NARROWEST.
        let mut least = Vec::with_capacity(n);
        let mut want = Vec::with_capacity(n);
        for (c, col) in survey.columns.iter().enumerate() {
            let mut word = 0.0f32;
            for w in col.label.split(' ') {
                word = word.max(fonts.width(w, BODY, true)?);
            }
            let l = (word.max(survey.token[c]) + 2.0 * PAD).max(NARROWEST);
            least.push(l);
            want.push((survey.natural[c] + 2.0 * PAD).max(l));
        }
        for landscape in [false, true] {
            let room = page_size(landscape).0 - 2.0 * MARGIN;
            let wanted: f32 = want.iter().sum();
            if wanted <= room || (landscape && least.iter().sum::<f32>() <= room) {
                let widths = fit(&want, &least, room);
                let mut header = Vec::new();
                for (col, w) in survey.columns.iter().zip(&widths) {
                    let (lines, _) = fonts.wrap(&col.label, BODY, true, w - 2.0 * PAD, 4)?;
                    let h = lines.len() as f32 * LINE + 4.0;
                    header.push((lines, h));
                }
                return Ok(Layout::Table { landscape, widths, header });
            }
        }
        Ok(Layout::Blocks)
    }

    fn landscape(&self) -> bool {
        match self {
            Layout::Table { landscape, .. } => *landscape,
            Layout::Blocks => true,
        }
    }

    fn header_height(&self) -> f32 {
        match self {
            Layout::Table { header, .. } => header.iter().map(|h| h.1).fold(0.0, f32::max),
            Layout::Blocks => 0.0,
        }
    }
}

/// Widths that fill `room`: what each wants when all fit (the spare shared out), else the
/// widest cut down to a common cap, never under their least.
fn fit(want: &[f32], least: &[f32], room: f32) -> Vec<f32> {
    let total: f32 = want.iter().sum();
    if total <= room {
        let spare = (room - total) / want.len() as f32;
        return want.iter().map(|w| w + spare).collect();
    }
    let (mut lo, mut hi) = (0.0f32, WIDEST + 2.0 * PAD);
    for _ in 0..40 {
        let cap = (lo + hi) / 2.0;
        let used: f32 = want.iter().zip(least).map(|(w, l)| w.min(cap).max(*l)).sum();
        if used > room { hi = cap } else { lo = cap }
    }
    want.iter().zip(least).map(|(w, l)| w.min(lo).max(*l)).collect()
}

/// A value wrapped to a width; a value longer than a cell shows says where the rest is.
struct Wrapped {
    text: String,
    lines: Vec<Range<usize>>,
    note: Option<(String, Vec<Range<usize>>)>,
}

impl Wrapped {
    fn new(fonts: &mut Fonts, text: String, width: f32) -> Result<Wrapped, NoFont> {
        let (lines, cut) = fonts.wrap(&text, BODY, false, width, MAX_VALUE_LINES)?;
        let note = if cut {
            let note = format!(
                "… ({} characters in all: the whole value is in the attached proof)",
                text.chars().count()
            );
            let (lines, _) = fonts.wrap(&note, BODY, false, width, 4)?;
            Some((note, lines))
        } else {
            None
        };
        Ok(Wrapped { text, lines, note })
    }

    fn height(&self) -> f32 {
        (self.lines.len() + self.note.as_ref().map_or(0, |n| n.1.len())).max(1) as f32 * LINE
    }
}

/// What goes on a page of rows, one after another.
enum Item {
    Row(Vec<Wrapped>),
    BlockHead(u64),
    Pairs(Vec<(usize, Wrapped)>),
}

impl Item {
    fn height(&self) -> f32 {
        match self {
            Item::Row(cells) => cells.iter().map(Wrapped::height).fold(LINE, f32::max) + 2.0,
            Item::BlockHead(_) => LINE + 6.0,
            Item::Pairs(pairs) => pairs.iter().map(|p| p.1.height()).fold(LINE, f32::max) + 1.0,
        }
    }
}

/// The items of one row.
fn items(
    fonts: &mut Fonts,
    columns: &[Column],
    layout: &Layout,
    index: u64,
    row: &Map<String, Value>,
) -> Result<Vec<Item>, NoFont> {
    let value = |c: &Column| shown(c.kind, row.get(&c.name).unwrap_or(&Value::Null));
    match layout {
        Layout::Table { widths, .. } => {
            let mut cells = Vec::with_capacity(columns.len());
            for (c, w) in columns.iter().zip(widths) {
                cells.push(Wrapped::new(fonts, value(c), w - 2.0 * PAD)?);
            }
            Ok(vec![Item::Row(cells)])
        }
        Layout::Blocks => {
            let part = (page_size(true).0 - 2.0 * MARGIN) / BLOCK_COLUMNS as f32;
            let mut present = Vec::new();
            for (i, c) in columns.iter().enumerate() {
                let v = value(c);
                if !v.is_empty() {
                    present.push((i, Wrapped::new(fonts, v, part - LABEL - 2.0 * PAD)?));
                }
            }
            // Reading order down the first column, then down the next.
            let tall = present.len().div_ceil(BLOCK_COLUMNS).max(1);
            let mut lines: Vec<Vec<(usize, Wrapped)>> = (0..tall).map(|_| Vec::new()).collect();
            for (n, pair) in present.into_iter().enumerate() {
                lines[n % tall].push(pair);
            }
            let mut out = vec![Item::BlockHead(index)];
            out.extend(lines.into_iter().map(Item::Pairs));
            Ok(out)
        }
    }
}

/// Pass two: the pages the rows take (stops once past `max_pages`).
pub fn count_pages(
    file: &ProofFile,
    survey: &Survey,
    layout: &Layout,
    fonts: &mut Fonts,
    max_pages: u64,
) -> anyhow::Result<u64> {
    let (_, height) = page_size(layout.landscape());
    let room = height - TOP - BOTTOM - layout.header_height();
    let mut pages = 1u64;
    let mut used = 0.0f32;
    let mut index = 0u64;
    let mut on_row = |bytes: &[u8]| -> anyhow::Result<()> {
        index += 1;
        let row: Map<String, Value> = serde_json::from_slice(bytes)?;
        let items = items(fonts, &survey.columns, layout, index, &row)?;
        for (i, item) in items.iter().enumerate() {
            let h = item.height()
                + if matches!(item, Item::BlockHead(_)) {
                    items.get(i + 1).map_or(0.0, Item::height)
                } else {
                    0.0
                };
            if used + h > room && used > 0.0 {
                pages += 1;
                used = 0.0;
                anyhow::ensure!(pages <= max_pages, TooManyPages { rows: survey.rows, max_pages });
            }
            used += item.height();
        }
        Ok(())
    };
    file.read(None, &mut |_, _| Ok(()), &mut on_row).map_err(|e| match e {
        evidence_proof::output::readback::ReadError::Rows(e)
        | evidence_proof::output::readback::ReadError::Metadata(e) => e,
    })?;
    Ok(pages)
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn rect(surface: &mut Surface, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w.max(0.01), h.max(0.01)) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        surface.set_stroke(None);
        surface.set_fill(Some(fill(color)));
        surface.draw_path(&path);
        surface.set_fill(Some(fill(INK)));
    }
}

fn hline(surface: &mut Surface, x: f32, y: f32, w: f32, color: (u8, u8, u8)) {
    let mut pb = PathBuilder::new();
    pb.move_to(x, y);
    pb.line_to(x + w, y);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(color.0, color.1, color.2).into(),
            width: 0.5,
            ..Default::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
        surface.set_fill(Some(fill(INK)));
    }
}

const INK: (u8, u8, u8) = (20, 20, 20);
const GREY: (u8, u8, u8) = (110, 110, 110);
const RULE: (u8, u8, u8) = (200, 200, 200);
const SHADE: (u8, u8, u8) = (236, 239, 243);
const BAR: (u8, u8, u8) = (86, 120, 170);
const MARK: (u8, u8, u8) = (196, 62, 52);
const PALETTE: [(u8, u8, u8); 6] =
    [(60, 140, 90), (196, 62, 52), (225, 160, 40), (86, 120, 170), (140, 100, 170), (120, 120, 120)];

/// A value's colour in a stacked bar: passing green, failing red, errors amber, others in turn.
fn color_of(value: &str, i: usize) -> (u8, u8, u8) {
    let v = value.to_ascii_lowercase();
    if v.contains("pass") {
        (60, 140, 90)
    } else if v.contains("fail") {
        (196, 62, 52)
    } else if v.contains("error") {
        (225, 160, 40)
    } else {
        PALETTE[3 + i % 3]
    }
}

/// What every page shares.
struct Pages<'a> {
    fonts: &'a mut Fonts,
    total: u64,
    number: u64,
    footer: String,
}

impl Pages<'_> {
    /// Draws a line of text; `width` bounds right-to-left alignment.
    fn text(
        &mut self,
        s: &mut Surface,
        t: &str,
        (x, y, w): (f32, f32, f32),
        (size, bold): (f32, bool),
    ) -> Result<(), NoFont> {
        self.fonts.draw_line(s, t, (x, y), w, size, bold)
    }

    /// Wrapped text; returns the height used.
    fn para(
        &mut self,
        s: &mut Surface,
        t: &str,
        (x, y, w): (f32, f32, f32),
        (size, bold): (f32, bool),
        most: usize,
    ) -> Result<f32, NoFont> {
        let (lines, cut) = self.fonts.wrap(t, size, bold, w, most)?;
        let lh = size * 1.25;
        for (i, r) in lines.iter().enumerate() {
            self.text(s, &t[r.clone()], (x, y + (i as f32 + 1.0) * lh - size * 0.25, w), (size, bold))?;
        }
        let mut h = lines.len().max(1) as f32 * lh;
        if cut {
            self.text(
                s,
                "… (continued in the attached proof)",
                (x, y + h + lh - size * 0.25, w),
                (size, false),
            )?;
            h += lh;
        }
        Ok(h)
    }

    fn footer(&mut self, s: &mut Surface, (w, h): (f32, f32)) -> Result<(), NoFont> {
        self.number += 1;
        s.set_fill(Some(fill(GREY)));
        let footer = self.footer.clone();
        self.text(s, &footer, (MARGIN, h - MARGIN + 4.0, w - 2.0 * MARGIN - 80.0), (6.5, false))?;
        let n = format!("Page {} of {}", self.number, self.total);
        let nw = self.fonts.width(&n, 6.5, false)?;
        self.text(s, &n, (w - MARGIN - nw, h - MARGIN + 4.0, nw), (6.5, false))?;
        s.set_fill(Some(fill(INK)));
        Ok(())
    }
}

fn str_of<'a>(m: Option<&'a Map<String, Value>>, path: &[&str]) -> Option<&'a Value> {
    let mut v = m?.get(path[0])?;
    for p in &path[1..] {
        v = v.get(p)?;
    }
    Some(v)
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(v) => crate::plain(v),
    }
}

/// The first page's lines: label and value.
fn facts(survey: &Survey, options: &PdfOptions, files: &[(String, Vec<u8>)]) -> Vec<(String, String)> {
    let m = survey.metadata.as_ref();
    let get = |p: &[&str]| text_of(str_of(m, p));
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: String| out.push((k.to_string(), v));
    push("Proof type", get(&["proof_type"]));
    push("Collected at", get(&["collected_at"]));
    push("Finished at", get(&["provenance", "finished_at"]));
    push("Platform", get(&["platform"]));
    push("API server", get(&["api_url"]));
    let role = match (
        str_of(m, &["provenance", "account", "role"]),
        str_of(m, &["provenance", "account", "role_source"]),
    ) {
        (Some(Value::String(r)), Some(Value::String(src))) => format!("{r} (learnt from {src})"),
        (Some(Value::String(r)), _) => r.clone(),
        _ => "not learnt by this run".into(),
    };
    push("Account", get(&["provenance", "account", "login"]));
    push("Role", role);
    let criteria = str_of(m, &["provenance", "criteria_applied"])
        .and_then(Value::as_array)
        .or_else(|| str_of(m, &["criteria"]).and_then(Value::as_array))
        .map(|items| {
            items
                .iter()
                .map(|i| format!("{} = {}", text_of(i.get("name")), text_of(i.get("value"))))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    push("Criteria as applied", if criteria.is_empty() { "none".into() } else { criteria.join("\n") });
    push(
        "Rows",
        format!(
            "{} (the proof states {}); collected in {} API pages with {} requests",
            survey.rows,
            get(&["row_count"]),
            get(&["provenance", "pages"]),
            get(&["provenance", "requests"])
        ),
    );
    let warnings = str_of(m, &["warnings"]).and_then(Value::as_array).cloned().unwrap_or_default();
    let mut w: Vec<String> = warnings
        .iter()
        .take(12)
        .map(|w| match (w.get("code"), w.get("message")) {
            (Some(c), Some(msg)) => format!("{}: {}", crate::plain(c), crate::plain(msg)),
            _ => crate::plain(w),
        })
        .collect();
    if warnings.len() > 12 {
        w.push(format!("and {} more, in the attached proof", warnings.len() - 12));
    }
    push(
        "Warnings",
        if w.is_empty() { "none".into() } else { format!("{}:\n{}", warnings.len(), w.join("\n")) },
    );
    push("Rows' SHA-256", format!("{} (recomputed from the rows: it matches the proof)", survey.sha256));
    let resumed =
        str_of(m, &["provenance", "resumed"]).and_then(Value::as_array).cloned().unwrap_or_default();
    push(
        "Resumed",
        if resumed.is_empty() {
            "no: collected in one run".into()
        } else {
            resumed
                .iter()
                .map(|r| {
                    format!(
                        "at {}: {} rows read back from disk and checked; checkpoint signed by {}",
                        text_of(r.get("at")),
                        text_of(r.get("rows_from_partial")),
                        r.get("checkpoint_signed_by").and_then(Value::as_str).unwrap_or("nobody (unsigned)")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
    );
    push(
        "Signature",
        match str_of(m, &["signature", "key_id"]) {
            Some(k) => format!("signed by key {}", crate::plain(k)),
            None => "unsigned".into(),
        },
    );
    push(
        "Connector",
        format!(
            "{} {} for {}; component SHA-256 {}",
            get(&["provenance", "connector", "name"]),
            get(&["provenance", "connector", "version"]),
            get(&["provenance", "connector", "service"]),
            get(&["provenance", "connector", "component_sha256"])
        ),
    );
    push(
        "Written by",
        format!("{} {}", get(&["provenance", "host", "name"]), get(&["provenance", "host", "version"])),
    );
    push("Rendered by", options.creator.clone());
    push(
        "Attached",
        format!(
            "{}: the proof this document shows, machine-checkable: `connector-host verify` of this PDF checks it",
            files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>().join(", ")
        ),
    );
    if m.is_none() {
        out.insert(0, ("Metadata".into(), "none: a rows file without its sidecar".into()));
    }
    out
}

fn first_page(
    p: &mut Pages,
    doc: &mut Document,
    survey: &Survey,
    options: &PdfOptions,
    files: &[(String, Vec<u8>)],
) -> anyhow::Result<()> {
    let size = A4;
    let mut page = doc.start_page_with(PageSettings::from_wh(size.0, size.1).context("page size")?);
    let mut s = page.surface();
    s.set_fill(Some(fill(INK)));
    let width = size.0 - 2.0 * MARGIN;
    let title = text_of(str_of(survey.metadata.as_ref(), &["title"]));
    let mut y = MARGIN;
    y += p.para(&mut s, &title, (MARGIN, y, width), (16.0, true), 3)? + 4.0;
    if let Some(d) = &options.description {
        s.set_fill(Some(fill(GREY)));
        y += p.para(&mut s, d, (MARGIN, y, width), (9.0, false), 6)? + 6.0;
        s.set_fill(Some(fill(INK)));
    }
    hline(&mut s, MARGIN, y, width, RULE);
    y += 6.0;
    let bottom = size.1 - BOTTOM - 20.0;
    for (k, v) in facts(survey, options, files) {
        if y > bottom {
            p.para(&mut s, "(more in the attached proof)", (MARGIN, y, width), (8.0, false), 1)?;
            break;
        }
        p.para(&mut s, &k, (MARGIN, y, 110.0), (8.5, true), 2)?;
        let most = (((bottom - y) / (8.5 * 1.25)) as usize).clamp(1, 20);
        let h = p.para(&mut s, &v, (MARGIN + 118.0, y, width - 118.0), (8.5, false), most)?;
        y += h + 4.0;
    }
    p.footer(&mut s, size)?;
    s.finish();
    page.finish();
    Ok(())
}

fn summary_pages(p: &mut Pages, doc: &mut Document, survey: &Survey) -> anyhow::Result<()> {
    for chunk in survey.summaries.chunks(SUMMARIES_PER_PAGE) {
        let size = A4;
        let mut page = doc.start_page_with(PageSettings::from_wh(size.0, size.1).context("page size")?);
        let mut s = page.surface();
        s.set_fill(Some(fill(INK)));
        let width = size.0 - 2.0 * MARGIN;
        let mut y = MARGIN;
        p.text(&mut s, "Summary", (MARGIN, y + 14.0, width), (14.0, true))?;
        y += 26.0;
        for (summary, tally) in chunk {
            p.text(&mut s, summary.title, (MARGIN, y + 11.0, width), (11.0, true))?;
            y += 18.0;
            let groups = tally.shown(summary);
            let values: Vec<String> = match summary.split {
                Split::Values(_) => {
                    let mut v: Vec<String> = groups.iter().flat_map(|g| g.1.values.keys().cloned()).collect();
                    v.sort();
                    v.dedup();
                    v.truncate(PALETTE.len());
                    v
                }
                _ => Vec::new(),
            };
            // The table: group, rows, and the split's columns.
            let mut heads = vec!["".to_string(), "rows".to_string()];
            match summary.split {
                Split::Count => {}
                Split::Flag(_, label) => heads.push(label.to_string()),
                Split::Values(_) => heads.extend(values.iter().cloned()),
            }
            let col = [110.0f32, 40.0, 44.0];
            let x_of = |i: usize| MARGIN + if i == 0 { 0.0 } else { col[0] + (i - 1) as f32 * col[1] };
            let table_w = x_of(heads.len());
            rect(&mut s, MARGIN, y, table_w, LINE + 2.0, SHADE);
            for (i, h) in heads.iter().enumerate() {
                p.text(&mut s, h, (x_of(i) + 2.0, y + LINE - 1.5, col[1] - 4.0), (BODY, true))?;
            }
            let top = y + LINE + 2.0;
            let max = groups.iter().map(|g| g.1.rows).max().unwrap_or(0).max(1);
            let chart_x = MARGIN + table_w.max(250.0) + 12.0;
            let chart_w = MARGIN + width - chart_x - 40.0;
            for (i, (name, g)) in groups.iter().enumerate() {
                let ry = top + i as f32 * (LINE + 2.0);
                let mut cells = vec![name.clone(), g.rows.to_string()];
                match summary.split {
                    Split::Count => {}
                    Split::Flag(..) => cells.push(g.flagged.to_string()),
                    Split::Values(_) => {
                        cells.extend(values.iter().map(|v| g.values.get(v).copied().unwrap_or(0).to_string()))
                    }
                }
                for (c, t) in cells.iter().enumerate() {
                    let w = if c == 0 { col[0] - 4.0 } else { col[1] - 4.0 };
                    let (lines, _) = p.fonts.wrap(t, BODY, false, w, 1)?;
                    let shown = lines.first().map_or("", |r| &t[r.clone()]);
                    p.text(&mut s, shown, (x_of(c) + 2.0, ry + LINE - 1.5, w), (BODY, false))?;
                }
                // The bar: rows to scale, the flagged or per-value parts coloured.
                let bw = chart_w * g.rows as f32 / max as f32;
                match summary.split {
                    Split::Count => rect(&mut s, chart_x, ry + 1.5, bw, LINE - 1.5, BAR),
                    Split::Flag(..) => {
                        let marked = bw * g.flagged as f32 / g.rows.max(1) as f32;
                        rect(&mut s, chart_x, ry + 1.5, bw - marked, LINE - 1.5, BAR);
                        rect(&mut s, chart_x + bw - marked, ry + 1.5, marked, LINE - 1.5, MARK);
                    }
                    Split::Values(_) => {
                        let mut x = chart_x;
                        for (vi, v) in values.iter().enumerate() {
                            let part =
                                bw * g.values.get(v).copied().unwrap_or(0) as f32 / g.rows.max(1) as f32;
                            rect(&mut s, x, ry + 1.5, part, LINE - 1.5, color_of(v, vi));
                            x += part;
                        }
                    }
                }
                p.text(
                    &mut s,
                    &g.rows.to_string(),
                    (chart_x + bw + 3.0, ry + LINE - 1.5, 40.0),
                    (BODY, false),
                )?;
            }
            let mut ly = top + groups.len().min(SHOWN_GROUPS) as f32 * (LINE + 2.0) + 4.0;
            // The legend.
            let legend: Vec<(String, (u8, u8, u8))> = match summary.split {
                Split::Count => vec![("rows".into(), BAR)],
                Split::Flag(_, label) => vec![("rows".into(), BAR), (label.to_string(), MARK)],
                Split::Values(_) => {
                    values.iter().enumerate().map(|(i, v)| (v.clone(), color_of(v, i))).collect()
                }
            };
            let mut lx = chart_x;
            for (name, color) in legend {
                rect(&mut s, lx, ly + 2.0, 7.0, 7.0, color);
                let w = p.fonts.width(&name, BODY, false)?;
                p.text(&mut s, &name, (lx + 10.0, ly + 8.5, w + 1.0), (BODY, false))?;
                lx += w + 24.0;
            }
            ly += 16.0;
            y = ly.max(y) + 14.0;
        }
        p.footer(&mut s, size)?;
        s.finish();
        page.finish();
    }
    Ok(())
}

/// Pass three: the whole document.
pub fn document(
    file: &ProofFile,
    survey: &Survey,
    layout: &Layout,
    fonts: &mut Fonts,
    options: &PdfOptions,
    files: &[(String, Vec<u8>)],
    total: u64,
) -> anyhow::Result<Vec<u8>> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_U)
        .finish()
        .map_err(|e| anyhow::anyhow!("PDF/A-3u configuration: {e:?}"))?;
    let mut doc =
        Document::new_with(SerializeSettings { configuration, enable_tagging: false, ..Default::default() });
    let m = survey.metadata.as_ref();
    let title = text_of(str_of(m, &["title"]));
    let collected = text_of(str_of(m, &["collected_at"]));
    let now = time::OffsetDateTime::now_utc();
    let stamp = |t: time::OffsetDateTime| {
        DateTime::new(t.year().clamp(0, 9999) as u16)
            .month(u8::from(t.month()))
            .day(t.day())
            .hour(t.hour())
            .minute(t.minute())
            .second(t.second())
            .utc_offset_hour(0)
            .utc_offset_minute(0)
    };
    doc.set_metadata(
        Metadata::new()
            .title(title.clone())
            .description(format!("Evidence: {title}, collected {collected}, {} rows", survey.rows))
            .creator(options.creator.clone())
            .creation_date(stamp(now))
            .language("en".into()),
    );
    for (name, bytes) in files {
        let mime = if name.ends_with(".csv") {
            "text/csv"
        } else if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
            "application/x-ndjson"
        } else {
            "application/json"
        };
        doc.embed_file(EmbeddedFile {
            path: name.clone(),
            mime_type: MimeType::new(mime),
            description: Some(format!("{name}: the proof this document was rendered from, as collected")),
            association_kind: AssociationKind::Source,
            data: bytes.clone().into(),
            modification_date: Some(stamp(now)),
            compress: None,
            location: None,
        })
        .context("attaching the proof")?;
    }
    let digest = survey.sha256.get(..16).unwrap_or_default();
    let mut p = Pages {
        fonts,
        total,
        number: 0,
        footer: format!("{title} · collected {collected} · rows' SHA-256 {digest}…"),
    };
    first_page(&mut p, &mut doc, survey, options, files)?;
    summary_pages(&mut p, &mut doc, survey)?;
    rows_pages(&mut p, &mut doc, file, survey, layout)?;
    anyhow::ensure!(p.number == total, "drew {} pages, counted {total}", p.number);
    doc.finish().map_err(|e| anyhow::anyhow!("writing the PDF: {e:?}"))
}

/// The running head of a page of rows: the title and, for a table, the header row.
fn row_page_head(
    p: &mut Pages,
    s: &mut Surface,
    survey: &Survey,
    layout: &Layout,
    width: f32,
) -> Result<f32, NoFont> {
    let title = text_of(str_of(survey.metadata.as_ref(), &["title"]));
    let note = match layout {
        Layout::Table { .. } => format!("{title} — rows"),
        Layout::Blocks => format!("{title} — rows, one block each (fields without a value are left out)"),
    };
    p.text(s, &note, (MARGIN, MARGIN + 9.0, width), (9.0, true))?;
    let mut y = TOP;
    if let Layout::Table { widths, header, .. } = layout {
        let h = layout.header_height();
        rect(s, MARGIN, y, width, h, SHADE);
        let mut x = MARGIN;
        for ((col, w), (lines, _)) in survey.columns.iter().zip(widths).zip(header) {
            for (i, r) in lines.iter().enumerate() {
                p.text(
                    s,
                    &col.label[r.clone()],
                    (x + PAD, y + (i as f32 + 1.0) * LINE - 1.0, w - 2.0 * PAD),
                    (BODY, true),
                )?;
            }
            x += w;
        }
        y += h;
    }
    Ok(y)
}

fn draw_wrapped(p: &mut Pages, s: &mut Surface, v: &Wrapped, x: f32, y: f32, w: f32) -> Result<(), NoFont> {
    let line = |i: usize| y + (i as f32 + 1.0) * LINE - 1.5;
    for (i, r) in v.lines.iter().enumerate() {
        p.text(s, &v.text[r.clone()], (x, line(i), w), (BODY, false))?;
    }
    if let Some((note, lines)) = &v.note {
        s.set_fill(Some(fill(GREY)));
        for (i, r) in lines.iter().enumerate() {
            p.text(s, &note[r.clone()], (x, line(v.lines.len() + i), w), (BODY, false))?;
        }
        s.set_fill(Some(fill(INK)));
    }
    Ok(())
}

fn rows_pages(
    p: &mut Pages,
    doc: &mut Document,
    file: &ProofFile,
    survey: &Survey,
    layout: &Layout,
) -> anyhow::Result<()> {
    let size = page_size(layout.landscape());
    let room = size.1 - TOP - BOTTOM - layout.header_height();
    // One page of items is kept, then drawn: memory stays bounded by a page.
    let mut buffer: Vec<Item> = Vec::new();
    let mut used = 0.0f32;
    let mut index = 0u64;
    let mut on_row = |bytes: &[u8]| -> anyhow::Result<()> {
        index += 1;
        let row: Map<String, Value> = serde_json::from_slice(bytes)?;
        let its = items(p.fonts, &survey.columns, layout, index, &row)?;
        let heights: Vec<f32> = its.iter().map(Item::height).collect();
        for (i, item) in its.into_iter().enumerate() {
            let after = heights.get(i + 1).copied().unwrap_or(0.0);
            let need = heights[i] + if matches!(item, Item::BlockHead(_)) { after } else { 0.0 };
            if used + need > room && used > 0.0 {
                rows_page(p, doc, survey, layout, std::mem::take(&mut buffer), size)?;
                used = 0.0;
            }
            used += item.height();
            buffer.push(item);
        }
        Ok(())
    };
    file.read(None, &mut |_, _| Ok(()), &mut on_row).map_err(|e| match e {
        evidence_proof::output::readback::ReadError::Rows(e)
        | evidence_proof::output::readback::ReadError::Metadata(e) => e,
    })?;
    rows_page(p, doc, survey, layout, buffer, size)
}

/// Draws one page of rows.
fn rows_page(
    p: &mut Pages,
    doc: &mut Document,
    survey: &Survey,
    layout: &Layout,
    items: Vec<Item>,
    size: (f32, f32),
) -> anyhow::Result<()> {
    let width = size.0 - 2.0 * MARGIN;
    let mut page = doc.start_page_with(PageSettings::from_wh(size.0, size.1).context("page size")?);
    let mut s = page.surface();
    s.set_fill(Some(fill(INK)));
    let mut y = row_page_head(p, &mut s, survey, layout, width)?;
    if survey.rows == 0 {
        p.text(
            &mut s,
            "No rows: the service's answer was the documented shape of an empty result.",
            (MARGIN, y + 14.0, width),
            (9.0, false),
        )?;
    }
    for item in &items {
        draw_item(p, &mut s, survey, layout, item, y, width)?;
        y += item.height();
    }
    p.footer(&mut s, size)?;
    s.finish();
    page.finish();
    Ok(())
}

fn draw_item(
    p: &mut Pages,
    s: &mut Surface,
    survey: &Survey,
    layout: &Layout,
    item: &Item,
    y: f32,
    width: f32,
) -> Result<(), NoFont> {
    match (item, layout) {
        (Item::Row(cells), Layout::Table { widths, .. }) => {
            let mut x = MARGIN;
            for (cell, w) in cells.iter().zip(widths) {
                draw_wrapped(p, s, cell, x + PAD, y + 1.0, w - 2.0 * PAD)?;
                x += w;
            }
            hline(s, MARGIN, y + item.height(), width, RULE);
        }
        (Item::BlockHead(n), _) => {
            rect(s, MARGIN, y + 2.0, width, LINE + 2.0, SHADE);
            p.text(s, &format!("Row {n}"), (MARGIN + PAD, y + LINE + 0.5, width), (BODY, true))?;
        }
        (Item::Pairs(pairs), _) => {
            let part = width / BLOCK_COLUMNS as f32;
            for (k, (c, v)) in pairs.iter().enumerate() {
                let x = MARGIN + k as f32 * part;
                s.set_fill(Some(fill(GREY)));
                let (label, _) = p.fonts.wrap(&survey.columns[*c].label, BODY, true, LABEL - 2.0 * PAD, 1)?;
                let label = label.first().map_or("", |r| &survey.columns[*c].label[r.clone()]).to_string();
                p.text(s, &label, (x + PAD, y + LINE - 1.5, LABEL - 2.0 * PAD), (BODY, true))?;
                s.set_fill(Some(fill(INK)));
                draw_wrapped(p, s, v, x + LABEL, y, part - LABEL - 2.0 * PAD)?;
            }
        }
        _ => {}
    }
    Ok(())
}
