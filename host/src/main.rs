//! `connector-host`: run the Qualys evidence connector from the command line.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
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
