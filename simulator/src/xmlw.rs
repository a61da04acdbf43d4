//! Writing Qualys-shaped XML: escaping, CDATA, and the DOCTYPE lines Qualys sends.

use std::fmt::Write as _;

/// An XML document being built, with Qualys' layout habits.
#[derive(Default)]
pub struct Xml {
    pub out: String,
}

impl Xml {
    /// A document with the XML declaration and a DOCTYPE naming the DTD.
    pub fn with_doctype(root: &str, dtd_url: &str) -> Xml {
        let mut x = Xml { out: String::with_capacity(4096) };
        x.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
        let _ = writeln!(x.out, "<!DOCTYPE {root} SYSTEM \"{dtd_url}\">");
        x
    }

    /// A document that begins with the DOCTYPE and has no XML declaration (real: Qualys' HTTP
    /// 400 SIMPLE_RETURN documents start this way).
    pub fn doctype_only(root: &str, dtd_url: &str) -> Xml {
        let mut x = Xml { out: String::with_capacity(1024) };
        let _ = writeln!(x.out, "<!DOCTYPE {root} SYSTEM \"{dtd_url}\">");
        x
    }

    /// `<!-- text -->` on a line of its own (real: Qualys puts notices in comments before and
    /// after the root element).
    pub fn comment(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.out, "<!-- {} -->", text.replace("--", "- -"));
        self
    }

    /// `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.out, "<{name}>");
        self
    }

    /// `<name a="v" ...>`.
    pub fn open_attrs(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let _ = write!(self.out, "<{name}");
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"{}\"", escape(v));
        }
        self.out.push('>');
        self
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = writeln!(self.out, "</{name}>");
        self
    }

    /// `<name>escaped text</name>`.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        let _ = writeln!(self.out, "<{name}>{}</{name}>", escape(value));
        self
    }

    /// `<name><![CDATA[text]]></name>`, splitting any `]]>` inside the text.
    pub fn cdata(&mut self, name: &str, value: &str) -> &mut Self {
        let _ = writeln!(self.out, "<{name}>{}</{name}>", cdata(value));
        self
    }

    /// `<name>` newline, indented CDATA, newline, `</name>`: the layout of the Qualys guide's
    /// own samples (doc), which a reader must trim.
    pub fn cdata_spaced(&mut self, name: &str, value: &str) -> &mut Self {
        let _ = writeln!(self.out, "<{name}>\n  {}\n</{name}>", cdata(value));
        self
    }

    /// The element only when there is a value (Qualys omits empty optional elements).
    pub fn opt_text(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.text(name, v);
        }
        self
    }

    /// The element in CDATA only when there is a value.
    pub fn opt_cdata(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.cdata(name, v);
        }
        self
    }

    /// `<name/>`.
    pub fn empty(&mut self, name: &str) -> &mut Self {
        let _ = writeln!(self.out, "<{name}/>");
        self
    }

    /// Sends what is written so far when the response streams and a chunk's worth is ready
    /// (called between records of a successful list).
    pub fn flush(&mut self, req: &crate::server::ApiRequest) -> &mut Self {
        if let Some(stream) = &req.stream {
            stream.flush(&mut self.out);
        }
        self
    }

    /// Raw, already-valid XML.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }
}

/// Escapes the five XML special characters.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Wraps text in CDATA, splitting `]]>` so the section stays valid.
pub fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}
