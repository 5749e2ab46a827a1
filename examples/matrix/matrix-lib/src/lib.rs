//! The workspace library crate of the matrix example. `scripts/edit-matrix.py` edits the text
//! below in place (one line, so no other function moves) and expects `row lib: <new text>`.

/// The text of the `lib` row.
pub fn lib_value() -> String {
    String::from("lib v0")
}
