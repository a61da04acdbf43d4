//! Text for the PDF: fonts, fallback, bidirectional order, shaping, measuring and wrapping.
//!
//! DejaVu Sans Condensed is embedded (the `dejavu` crate ships it): Latin, Greek, Cyrillic,
//! Arabic, Hebrew, Armenian and Georgian need nothing installed. A character it lacks is drawn
//! with a font found on the machine (fontconfig's folders, through `fontdb`); a character no font
//! covers fails the render with [`NoFont`], naming its script and a Debian package that covers it.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use krilla::geom::Point;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use rustybuzz::{Direction, UnicodeBuffer};
use unicode_bidi::BidiInfo;
use unicode_script::{Script, UnicodeScript};

/// No available font covers a character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoFont {
    /// The character.
    pub character: char,
    /// Its Unicode script, as Unicode names it (e.g. `Katakana`).
    pub script: String,
    /// A Debian package whose fonts cover the script.
    pub package: &'static str,
}

impl std::fmt::Display for NoFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no font covers '{}' (U+{:04X}, {} script): the embedded font covers Latin, Greek, Cyrillic, \
             Arabic and Hebrew; install fonts for {} (on Debian or Ubuntu: `apt-get install {}`) and render \
             again, rather than print a box or '?' in evidence",
            self.character.escape_debug(),
            u32::from(self.character),
            self.script,
            self.script,
            self.package
        )
    }
}

impl std::error::Error for NoFont {}

/// Which Debian package covers a script (what the error and the docs tell people to install).
pub fn package_for(script: Script) -> &'static str {
    match script {
        Script::Han | Script::Hiragana | Script::Katakana | Script::Hangul | Script::Bopomofo => {
            "fonts-noto-cjk"
        }
        Script::Thai => "fonts-thai-tlwg",
        Script::Common | Script::Inherited | Script::Unknown => "fonts-symbola",
        _ => "fonts-noto-core",
    }
}

/// One loaded font: its bytes (kept for the process: fonts are few and reused), the shaper's
/// view and the PDF's.
struct Face {
    shaper: rustybuzz::Face<'static>,
    pdf: Font,
    units: f32,
}

impl Face {
    fn load(data: &'static [u8], index: u32) -> Option<Face> {
        let shaper = rustybuzz::Face::from_slice(data, index)?;
        let pdf = Font::new(data.into(), index)?;
        let units = shaper.units_per_em() as f32;
        Some(Face { shaper, pdf, units })
    }

    fn covers(&self, c: char) -> bool {
        self.shaper.glyph_index(c).is_some()
    }

    fn advance(&self, c: char) -> Option<f32> {
        let glyph = self.shaper.glyph_index(c)?;
        Some(f32::from(self.shaper.glyph_hor_advance(glyph).unwrap_or(0)) / self.units)
    }
}

/// Font files read from the machine, once per process: a render reuses them, and the set is
/// bounded by the fonts installed.
fn machine_font(path: &PathBuf) -> Option<&'static [u8]> {
    static READ: OnceLock<Mutex<HashMap<PathBuf, &'static [u8]>>> = OnceLock::new();
    let mut read = READ.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(data) = read.get(path) {
        return Some(data);
    }
    let data: &'static [u8] = Box::leak(std::fs::read(path).ok()?.into_boxed_slice());
    read.insert(path.clone(), data);
    Some(data)
}

/// Where fonts come from for one render.
#[derive(Debug, Clone, Default)]
pub struct FontSources {
    /// Look for fonts in the machine's font folders (fontconfig's configuration).
    pub system: bool,
    /// Further folders to look in.
    pub folders: Vec<PathBuf>,
}

/// Invisible format characters that need no glyph: left out when no font has one.
fn invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
}

/// The fonts of one render, with the fallback chosen for each character met.
pub struct Fonts {
    /// Font 0 regular, font 1 bold; the rest found on the machine.
    faces: Vec<Face>,
    /// The machine's fonts (none when they are not to be used), and their faces in the order
    /// they are tried.
    machine: fontdb::Database,
    candidates: Vec<fontdb::ID>,
    chosen: HashMap<char, Option<usize>>,
    ascii: [[f32; 128]; 2],
}

/// The face to draw a character with: regular or bold, or a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Face(usize),
    Skip,
}

impl Fonts {
    /// The embedded fonts, and the machine's when `sources` asks for them.
    pub fn new(sources: &FontSources) -> anyhow::Result<Fonts> {
        let regular = Face::load(dejavu::sans_condensed::regular(), 0)
            .ok_or_else(|| anyhow::anyhow!("the embedded font cannot be read"))?;
        let bold = Face::load(dejavu::sans_condensed::bold(), 0)
            .ok_or_else(|| anyhow::anyhow!("the embedded bold font cannot be read"))?;
        let mut ascii = [[0.0; 128]; 2];
        for (w, face) in ascii.iter_mut().zip([&regular, &bold]) {
            for (c, slot) in w.iter_mut().enumerate() {
                *slot = face.advance(char::from(c as u8)).unwrap_or(0.0);
            }
        }
        let mut db = fontdb::Database::new();
        let candidates = if sources.system || !sources.folders.is_empty() {
            if sources.system {
                db.load_system_fonts();
            }
            for folder in &sources.folders {
                db.load_fonts_dir(folder);
            }
            // Regular upright faces first, sans before serif, then the rest: a table reads best
            // in the plainest face that has the glyph.
            let mut faces: Vec<_> = db
                .faces()
                .filter_map(|f| match &f.source {
                    fontdb::Source::File(p) | fontdb::Source::SharedFile(p, _) => Some((f, p.clone())),
                    fontdb::Source::Binary(_) => None,
                })
                .collect();
            faces.sort_by_key(|(f, p)| {
                let family = f.families.first().map(|(n, _)| n.to_ascii_lowercase()).unwrap_or_default();
                (
                    f.style != fontdb::Style::Normal,
                    f.weight.0.abs_diff(400),
                    f.monospaced,
                    !family.contains("sans"),
                    !family.starts_with("noto"),
                    p.clone(),
                    f.index,
                )
            });
            faces.into_iter().map(|(f, _)| f.id).collect()
        } else {
            Vec::new()
        };
        Ok(Fonts { faces: vec![regular, bold], machine: db, candidates, chosen: HashMap::new(), ascii })
    }

    /// The face for `c` in the given weight (bold falls back to the regular fallback).
    fn pick(&mut self, c: char, bold: bool) -> Result<Pick, NoFont> {
        let own = usize::from(bold);
        if self.faces[own].covers(c) {
            return Ok(Pick::Face(own));
        }
        if let Some(found) = self.chosen.get(&c) {
            return Ok(found.map_or(Pick::Skip, Pick::Face));
        }
        let found = self.fallback(c);
        if found.is_none() && !invisible(c) && !c.is_control() {
            let script = c.script();
            return Err(NoFont {
                character: c,
                script: script.full_name().to_string(),
                package: package_for(script),
            });
        }
        self.chosen.insert(c, found);
        Ok(found.map_or(Pick::Skip, Pick::Face))
    }

    /// A loaded fallback covering `c`, or the first machine font that does, loaded then (the
    /// others are looked at in place, never read into memory).
    fn fallback(&mut self, c: char) -> Option<usize> {
        if let Some(i) = (2..self.faces.len()).find(|&i| self.faces[i].covers(c)) {
            return Some(i);
        }
        let covers = |id: fontdb::ID| {
            self.machine
                .with_face_data(id, |data, index| {
                    rustybuzz::ttf_parser::Face::parse(data, index)
                        .ok()
                        .and_then(|f| f.glyph_index(c))
                        .is_some()
                })
                .unwrap_or(false)
        };
        let id = self.candidates.iter().copied().find(|id| covers(*id))?;
        let (source, index) = self.machine.face_source(id)?;
        let path = match source {
            fontdb::Source::File(p) | fontdb::Source::SharedFile(p, _) => p,
            fontdb::Source::Binary(_) => return None,
        };
        let face = machine_font(&path).and_then(|data| Face::load(data, index))?;
        self.faces.push(face);
        Some(self.faces.len() - 1)
    }

    /// Width of `text` at `size` points (glyph advances; shaping moves it little).
    pub fn width(&mut self, text: &str, size: f32, bold: bool) -> Result<f32, NoFont> {
        let mut w = 0.0;
        for c in text.chars() {
            w += self.char_width(c, bold)?;
        }
        Ok(w * size)
    }

    fn char_width(&mut self, c: char, bold: bool) -> Result<f32, NoFont> {
        if c.is_ascii() {
            return Ok(self.ascii[usize::from(bold)][c as usize]);
        }
        Ok(match self.pick(c, bold)? {
            Pick::Face(i) => self.faces[i].advance(c).unwrap_or(0.0),
            Pick::Skip => 0.0,
        })
    }

    /// Breaks `text` into lines no wider than `width` points at `size`, at spaces where it can
    /// and anywhere else where it must; at most `max_lines` (the second value says whether text
    /// was left over).
    pub fn wrap(
        &mut self,
        text: &str,
        size: f32,
        bold: bool,
        width: f32,
        max_lines: usize,
    ) -> Result<(Vec<Range<usize>>, bool), NoFont> {
        let mut lines = Vec::new();
        let mut start = 0;
        let mut used = 0.0f32;
        // Byte offset after the last space of the line, and the width up to it.
        let mut space: Option<(usize, f32)> = None;
        for (i, c) in text.char_indices() {
            if lines.len() == max_lines {
                return Ok((lines, true));
            }
            if c == '\n' {
                lines.push(start..i);
                start = i + 1;
                used = 0.0;
                space = None;
                continue;
            }
            let w = self.char_width(c, bold)? * size;
            if used + w > width && i > start && c != ' ' {
                match space {
                    Some((at, before)) if at > start => {
                        lines.push(start..at - 1);
                        start = at;
                        used -= before;
                    }
                    _ => {
                        lines.push(start..i);
                        start = i;
                        used = 0.0;
                    }
                }
                space = None;
                if lines.len() == max_lines {
                    return Ok((lines, true));
                }
            }
            used += w;
            if c == ' ' {
                space = Some((i + 1, used));
            }
        }
        if start < text.len() || lines.is_empty() {
            lines.push(start..text.len());
        }
        Ok((lines, false))
    }

    /// Draws one line of text with its left edge at `x` (or its right edge at `x + width` when
    /// the paragraph runs right to left), baseline at `y`: in visual order, each run shaped in
    /// its direction with the font that covers it.
    pub fn draw_line(
        &mut self,
        surface: &mut Surface,
        text: &str,
        at: (f32, f32),
        width: f32,
        size: f32,
        bold: bool,
    ) -> Result<(), NoFont> {
        if text.is_empty() {
            return Ok(());
        }
        let pieces = self.pieces(text, bold)?;
        let total: f32 = pieces.iter().map(|p| p.advance).sum::<f32>() * size;
        let rtl = BidiInfo::new(text, None).paragraphs.first().is_some_and(|p| p.level.is_rtl());
        let mut x = if rtl { at.0 + (width - total).max(0.0) } else { at.0 };
        for piece in &pieces {
            let font = self.faces[piece.face].pdf.clone();
            surface.draw_glyphs(
                Point::from_xy(x, at.1),
                &piece.glyphs,
                font,
                &text[piece.range.clone()],
                size,
                false,
            );
            x += piece.advance * size;
        }
        Ok(())
    }

    /// The shaped pieces of a line, in visual order.
    fn pieces(&mut self, text: &str, bold: bool) -> Result<Vec<Piece>, NoFont> {
        let info = BidiInfo::new(text, None);
        let mut pieces = Vec::new();
        for para in &info.paragraphs {
            let (levels, runs) = info.visual_runs(para, para.range.clone());
            for run in runs {
                let rtl = levels[run.start].is_rtl();
                let mut spans: Vec<(usize, Range<usize>)> = Vec::new();
                for (i, c) in text[run.clone()].char_indices() {
                    let at = run.start + i;
                    let face = match self.pick(c, bold)? {
                        Pick::Face(f) => f,
                        // An invisible character joins its neighbour's span.
                        Pick::Skip => spans.last().map_or(usize::from(bold), |s| s.0),
                    };
                    match spans.last_mut() {
                        Some((f, r)) if *f == face => r.end = at + c.len_utf8(),
                        _ => spans.push((face, at..at + c.len_utf8())),
                    }
                }
                if rtl {
                    spans.reverse();
                }
                for (face, range) in spans {
                    pieces.push(self.shape(&text[range.clone()], range, face, rtl));
                }
            }
        }
        Ok(pieces)
    }

    fn shape(&self, text: &str, range: Range<usize>, face: usize, rtl: bool) -> Piece {
        let f = &self.faces[face];
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(if rtl { Direction::RightToLeft } else { Direction::LeftToRight });
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&f.shaper, &[], buffer);
        // A glyph's text is its cluster up to the next cluster start (clusters are byte offsets).
        let mut starts: Vec<usize> = shaped.glyph_infos().iter().map(|g| g.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let end_of = |c: usize| starts.iter().copied().find(|&s| s > c).unwrap_or(text.len());
        let mut advance = 0.0;
        let glyphs = shaped
            .glyph_infos()
            .iter()
            .zip(shaped.glyph_positions())
            .map(|(g, p)| {
                let c = g.cluster as usize;
                advance += p.x_advance as f32 / f.units;
                KrillaGlyph::new(
                    GlyphId::new(g.glyph_id),
                    p.x_advance as f32 / f.units,
                    p.x_offset as f32 / f.units,
                    p.y_offset as f32 / f.units,
                    p.y_advance as f32 / f.units,
                    c..end_of(c),
                    None,
                )
            })
            .collect();
        Piece { face, range, glyphs, advance }
    }
}

/// A run of glyphs in one font and direction.
struct Piece {
    face: usize,
    range: Range<usize>,
    glyphs: Vec<KrillaGlyph>,
    /// Advance in ems.
    advance: f32,
}
