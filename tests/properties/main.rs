//! Property tests of the core's public API: random inputs checked against a standard decoder
//! or a simple model (run with `cargo test --test properties`).

mod form_encoding;
mod secret_inputs;
mod token_cache;
