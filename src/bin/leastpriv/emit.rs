//! Writing a command's output: to standard output, or atomically to
//! `--output FILE`. A closed pipe (`| head`) is not an error.

use anyhow::Result;
use std::io::Write;
use std::path::Path;

pub fn emit(text: &str, output: Option<&Path>) -> Result<()> {
    emit_bytes(text.as_bytes(), output)
}

/// Streams a report to `output` (atomically) or standard output.
pub fn emit_with(
    output: Option<&Path>,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(p) => leastpriv::output::write_atomic_with(p, fill)?,
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            let r = fill(&mut out).and_then(|()| out.flush());
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            if let Err(e) = r {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

pub fn emit_bytes(bytes: &[u8], output: Option<&Path>) -> Result<()> {
    match output {
        Some(p) => leastpriv::output::write_atomic(p, bytes)?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            if let Err(e) = out.write_all(bytes) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}
