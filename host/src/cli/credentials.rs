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
    if let Ok(table) = text.parse::<toml::Table>() {
        let get = |k: &str| table.get(k).and_then(|v| v.as_str()).map(str::to_string);
        if let (Some(username), Some(password)) = (get("username"), get("password")) {
            return Ok(Credentials { username, password });
        }
    }
    let (mut username, mut password) = (None, None);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let line = line.strip_prefix("export ").unwrap_or(line);
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
            match k.trim() {
                "QUALYS_USERNAME" | "username" => username = Some(v),
                "QUALYS_PASSWORD" | "password" => password = Some(v),
                _ => {}
            }
        }
    }
    match (username, password) {
        (Some(username), Some(password)) if !username.is_empty() && !password.is_empty() => {
            Ok(Credentials { username, password })
        }
        // Never echo the file's content: it holds a password.
        _ => bail!(
            "credentials file {} must set username and password (TOML) or QUALYS_USERNAME and QUALYS_PASSWORD",
            path.display()
        ),
    }
}
