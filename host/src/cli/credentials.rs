//! Credentials for the CLI: environment variables, or a credentials file that only its owner
//! can read. Never a command-line flag (flags end up in shell history and `ps`).

use std::path::Path;

use anyhow::{Context as _, bail};

/// A user name and password.
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Reads `QUALYS_USERNAME`/`QUALYS_PASSWORD`, or the file when one is given.
pub fn load(file: Option<&Path>) -> anyhow::Result<Credentials> {
    if let Some(path) = file {
        return from_file(path);
    }
    let username = std::env::var("QUALYS_USERNAME").unwrap_or_default();
    let password = std::env::var("QUALYS_PASSWORD").unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        bail!(
            "set QUALYS_USERNAME and QUALYS_PASSWORD in the environment, or pass --credentials-file \
             (a file with username and password, readable only by you)"
        );
    }
    Ok(Credentials { username, password })
}

/// Reads a TOML file (`username = "..."`, `password = "..."`) or an env-style file
/// (`QUALYS_USERNAME=...`, `QUALYS_PASSWORD=...`). Refuses files others can read.
pub fn from_file(path: &Path) -> anyhow::Result<Credentials> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading credentials file {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "credentials file {} can be read by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading credentials file {}", path.display()))?;
    parse(&text).with_context(|| format!("credentials file {}", path.display()))
}

/// Parses a credentials file strictly; messages name lines and keys, never a value.
///
/// A file whose settings are named `QUALYS_USERNAME` and `QUALYS_PASSWORD` is `KEY=VALUE`
/// (optionally `export KEY=VALUE`, `#` comments): a value is taken as written, or in single
/// quotes (literal), or in double quotes (`\"` and `\\` escapes only); an unquoted value with
/// spaces, quotes or backslashes is refused rather than guessed at. Any other file is TOML with
/// exactly `username` and `password`.
pub fn parse(text: &str) -> anyhow::Result<Credentials> {
    let settings = |l: &str| l.trim().strip_prefix("export ").unwrap_or(l.trim()).starts_with("QUALYS_");
    let (username, password) = if text.lines().any(settings) { parse_env(text)? } else { parse_toml(text)? };
    match (username, password) {
        (Some(username), Some(password)) if !username.is_empty() && !password.is_empty() => {
            Ok(Credentials { username, password })
        }
        _ => bail!(
            "it must set both a user name and a password (TOML: username and password; or QUALYS_USERNAME and QUALYS_PASSWORD)"
        ),
    }
}

type Pair = (Option<String>, Option<String>);

fn parse_toml(text: &str) -> anyhow::Result<Pair> {
    let table = text.parse::<toml::Table>().map_err(|e| {
        // toml's own message quotes the line, which may hold the password: say where only.
        let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].lines().count().max(1));
        anyhow::anyhow!("it is neither valid TOML (error on line {line}) nor QUALYS_USERNAME=... lines")
    })?;
    let mut pair: Pair = (None, None);
    for (key, value) in &table {
        let slot = match key.as_str() {
            "username" => &mut pair.0,
            "password" => &mut pair.1,
            other => bail!("unknown setting `{other}`; only username and password belong here"),
        };
        *slot = Some(value.as_str().with_context(|| format!("`{key}` must be a quoted string"))?.to_string());
    }
    Ok(pair)
}

fn parse_env(text: &str) -> anyhow::Result<Pair> {
    let mut pair: Pair = (None, None);
    for (n, raw) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let line = raw.strip_prefix("export ").unwrap_or(raw);
        let (key, value) = line.split_once('=').with_context(|| format!("line {n} is not KEY=VALUE"))?;
        let slot = match key {
            "QUALYS_USERNAME" => &mut pair.0,
            "QUALYS_PASSWORD" => &mut pair.1,
            other => bail!(
                "line {n}: unknown setting `{}`; only QUALYS_USERNAME and QUALYS_PASSWORD belong here (no spaces around `=`)",
                other.trim()
            ),
        };
        anyhow::ensure!(slot.is_none(), "line {n}: {key} is set twice");
        *slot = Some(env_value(value).with_context(|| format!("line {n}: the value of {key}"))?);
    }
    Ok(pair)
}

/// One `KEY=VALUE` value, unquoted, 'single-quoted' or "double-quoted".
fn env_value(value: &str) -> anyhow::Result<String> {
    if let Some(inner) = value.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'').context("has no closing single quote")?;
        anyhow::ensure!(
            !inner.contains('\''),
            "holds a single quote inside single quotes; use double quotes"
        );
        return Ok(inner.to_string());
    }
    if let Some(inner) = value.strip_prefix('"') {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e @ ('"' | '\\')) => out.push(e),
                    _ => bail!("holds a backslash that is not \\\" or \\\\"),
                },
                '"' => {
                    anyhow::ensure!(chars.as_str().is_empty(), "goes on after its closing double quote");
                    return Ok(out);
                }
                c => out.push(c),
            }
        }
        bail!("has no closing double quote");
    }
    anyhow::ensure!(
        !value.contains(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\')),
        "holds spaces, quotes or backslashes without quotes around it; put it in single quotes"
    );
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (String, String) {
        let c = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:#}"));
        (c.username, c.password)
    }

    fn refused(text: &str) -> String {
        let e = format!("{:#}", parse(text).err().unwrap_or_else(|| panic!("{text:?} was accepted")));
        assert!(!e.contains("s3cret"), "the message never holds the value: {e}");
        e
    }

    #[test]
    fn key_value_files_are_read_exactly_as_written_or_refused() {
        let u = |p: &str| ("me".to_string(), p.to_string());
        assert_eq!(ok("QUALYS_USERNAME=me\nQUALYS_PASSWORD=s3cret#1"), u("s3cret#1"));
        assert_eq!(ok("export QUALYS_USERNAME=me\n# c\nQUALYS_PASSWORD='a \"b\" \\c'"), u("a \"b\" \\c"));
        assert_eq!(ok("QUALYS_USERNAME=me\nQUALYS_PASSWORD=\"pw\\\"\""), u("pw\""));
        assert_eq!(ok("QUALYS_USERNAME=me\nQUALYS_PASSWORD=\" padded \""), u(" padded "));
        assert!(refused("QUALYS_USERNAME=me\nQUALYS_PASSWORD=s3cret x").contains("line 2"));
        assert!(refused("QUALYS_USERNAME=me\nQUALYS_PASSWORD=\"s3cret").contains("closing double quote"));
        assert!(refused("QUALYS_USERNAME=me\nQUALYS_PASSWORD=\"s3\\cret\"").contains("backslash"));
        assert!(refused("QUALYS_USERNAME=me\nQUALYS_PASSWORD='s3'cret'").contains("single quote"));
        assert!(
            refused("QUALYS_USERNAME=me\nQUALYS_PASWORD=s3cret").contains("unknown setting `QUALYS_PASWORD`")
        );
        assert!(
            refused("QUALYS_USERNAME=me\nQUALYS_PASSWORD=s3cret\nQUALYS_PASSWORD=s3cret").contains("twice")
        );
        assert!(refused("QUALYS_USERNAME=me").contains("both"));
    }

    #[test]
    fn toml_files_are_strict_and_errors_name_the_line_not_its_text() {
        assert_eq!(ok("username = \"me\"\npassword = 's3cret \"x\"'"), ("me".into(), "s3cret \"x\"".into()));
        let e = refused("username = \"me\"\npassword = \"s3cret");
        assert!(e.contains("line 2") && e.contains("TOML"), "{e}");
        assert!(refused("username = \"me\"\npasword = \"s3cret\"").contains("unknown setting `pasword`"));
        assert!(refused("username = \"me\"\npassword = 5").contains("quoted string"));
    }
}
