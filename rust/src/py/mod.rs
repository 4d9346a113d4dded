//! The PyO3 layer: thin wrappers that convert types and errors. No tokenizer logic lives here.

mod args;
mod cut;
mod encode_file;
mod errors;
mod formats;
mod id_lists;
mod ids_in;
mod interrupt;
mod shutdown;
mod text;
mod tokenizer;
mod train;

use pyo3::prelude::*;

#[pymodule]
fn _fastbpe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    tokenizer::register(m)?;
    train::register(m)?;
    encode_file::register(m)?;
    cut::register(m)?;
    formats::register(m)?;
    m.add_function(wrap_pyfunction!(shutdown::interpreter_exiting, m)?)?;
    m.add_function(wrap_pyfunction!(args::first_disallowed, m)?)?;
    m.add_function(wrap_pyfunction!(text::utf8_bytes, m)?)?;
    // Patterns with a hand-written scanner (selected by string equality; GPT2_PATTERN is added
    // by tokenizer::register).
    m.add("CL100K_PATTERN", crate::pretokenize::CL100K_PATTERN)?;
    m.add("O200K_PATTERN", crate::pretokenize::O200K_PATTERN)?;
    Ok(())
}
