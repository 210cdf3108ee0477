//! The `crampscan` command line: parses arguments, builds the library's
//! options and reports the outcome. No signal logic lives here.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
