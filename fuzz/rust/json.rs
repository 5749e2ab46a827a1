//! libFuzzer target (scripts/fuzz.sh links clang's libFuzzer): the runtime's
//! `whisker_hot::fuzzing::json`. A panic aborts (`-C panic=abort`): a finding.
#![no_main]

#[no_mangle]
pub extern "C" fn LLVMFuzzerTestOneInput(data: *const u8, size: usize) -> i32 {
    let bytes = if data.is_null() || size == 0 {
        &[][..]
    } else {
        // SAFETY: libFuzzer hands a buffer of `size` readable bytes, valid during the call.
        unsafe { std::slice::from_raw_parts(data, size) }
    };
    whisker_hot::fuzzing::json(bytes);
    0
}
