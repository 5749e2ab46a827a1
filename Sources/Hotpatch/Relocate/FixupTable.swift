/// The slots and trampolines a slide-independent patch library needs beside its objects: the
/// references an instruction can't hold as a 64-bit absolute address go through them.
///
/// - an *address slot* is 8 bytes of data holding `main + delta` through an `R_X86_64_64`
///   against the executable's exported `main`, so the dynamic loader writes the executable
///   symbol's runtime address at `dlopen` (a GOT entry rustc didn't ask for);
/// - a *thread-pointer slot* holds a constant: an executable thread-local's offset from `%fs`,
///   the same in every process of the build;
/// - a *trampoline* is `jmp *slot(%rip)`, for calls (`PLT32`/`PC32`) to executable functions.
///
/// Names are derived from the values, so the same patch gives byte-identical objects and two
/// objects of one link share entries.
struct FixupTable: Sendable {
    /// One 8-byte data slot.
    enum Slot: Hashable, Sendable {
        /// `main + delta` at load time: the executable symbol at file address `main`'s + delta.
        case address(delta: Int64)
        /// A constant thread-pointer offset.
        case threadPointerOffset(Int64)
    }

    private(set) var slots: [Slot] = []
    private var slotNames: [Slot: String] = [:]
    /// Trampolines by the address slot they jump through, in creation order.
    private(set) var trampolines: [(name: String, slot: String)] = []
    private var trampolineNames: [Int64: String] = [:]

    var isEmpty: Bool { slots.isEmpty }

    /// The symbol of the slot holding `slot`, added on first use.
    mutating func symbol(for slot: Slot) -> String {
        if let name = slotNames[slot] { return name }
        let name: String
        switch slot {
        case .address(let delta): name = "__whisker_slot_\(Self.hex(delta))"
        case .threadPointerOffset(let offset): name = "__whisker_tpoff_\(Self.hex(offset))"
        }
        slots.append(slot)
        slotNames[slot] = name
        return name
    }

    /// The symbol of a trampoline to the executable code at `main + delta`.
    mutating func trampoline(delta: Int64) -> String {
        if let name = trampolineNames[delta] { return name }
        let slot = symbol(for: .address(delta: delta))
        let name = "__whisker_jump_\(Self.hex(delta))"
        trampolines.append((name, slot))
        trampolineNames[delta] = name
        return name
    }

    func slotName(_ slot: Slot) -> String? { slotNames[slot] }

    private static func hex(_ value: Int64) -> String {
        value < 0 ? "m" + String(value.magnitude, radix: 16) : String(value, radix: 16)
    }
}
