//! `connector-host`: run the Qualys evidence connector from the command line.

use std::process::ExitCode;

use connector_host::cli;

fn main() -> ExitCode {
    // Errors are for people: no library error captures a backtrace (with RUST_BACKTRACE=1 they
    // did, and one reached the connector's sandbox inside an error's text). Panics keep theirs.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the process has one thread here; nothing else reads or writes the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let args = <cli::Cli as clap::Parser>::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cli::exit::HOST);
        }
    };
    let code = runtime.block_on(cli::run(args));
    ExitCode::from(code)
}
