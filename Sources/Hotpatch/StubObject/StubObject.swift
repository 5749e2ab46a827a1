import Foundation
import ObjectFile

/// The stub object linked into a patch library: it defines, for one process's slide, every name
/// the patch needs from the running executable.
///
/// Functions become hidden trampolines that jump to the running code; data becomes hidden
/// absolute (`SHN_ABS`) symbols at the running storage, so the patch reads and writes the
/// executable's statics instead of fresh copies. The layout is computed on `init` and can be
/// inspected; ``elfBytes()`` serialises it as an ELF64 relocatable object, no assembler needed.
public struct StubObject: Sendable, Equatable {
    /// A trampoline in `.text`.
    public struct Trampoline: Sendable, Hashable {
        public var name: String
        /// Where the trampoline jumps: the function's runtime address in the process.
        public var target: UInt64
        /// The trampoline's offset in the stub's `.text` (its symbol value).
        public var offset: UInt64
    }

    /// A hidden absolute symbol.
    public struct AbsoluteSymbol: Sendable, Hashable {
        public var name: String
        /// The datum's runtime address in the process (the symbol value).
        public var address: UInt64
        /// The datum's size in the fat binary (the symbol size).
        public var size: UInt64
    }

    public let architecture: StubArchitecture
    public let trampolines: [Trampoline]
    public let absoluteSymbols: [AbsoluteSymbol]

    /// Lays out the stub for `needed`, with runtime addresses computed from `slide`.
    public init(needed: NeededSymbols, slide: ASLRSlide, architecture: StubArchitecture) {
        self.architecture = architecture
        trampolines = needed.functions.enumerated().map { index, function in
            Trampoline(
                name: function.name, target: slide.runtimeAddress(ofFileAddress: function.fileAddress),
                offset: UInt64(index) * StubArchitecture.trampolineStride)
        }
        absoluteSymbols = needed.data.map { datum in
            AbsoluteSymbol(
                name: datum.name, address: slide.runtimeAddress(ofFileAddress: datum.fileAddress), size: datum.size)
        }
    }

    /// The object file's bytes.
    public func elfBytes() throws(StubObjectError) -> [UInt8] {
        var seen = Set<String>()
        for name in trampolines.map(\.name) + absoluteSymbols.map(\.name) where !seen.insert(name).inserted {
            throw .duplicateSymbol(name)
        }
        var text: [UInt8] = []
        text.reserveCapacity(trampolines.count * Int(StubArchitecture.trampolineStride))
        for trampoline in trampolines {
            text += architecture.trampoline(to: trampoline.target)
        }
        let functions = trampolines.map { trampoline in
            ELFRelocatableWriter.Symbol(
                name: trampoline.name, value: trampoline.offset, size: architecture.trampolineSize,
                type: ELF.SymbolType.function, sectionIndex: ELFRelocatableWriter.firstContentSectionIndex)
        }
        let data = absoluteSymbols.map { symbol in
            ELFRelocatableWriter.Symbol(
                name: symbol.name, value: symbol.address, size: symbol.size, type: ELF.SymbolType.object,
                sectionIndex: ELF.SectionIndex.absolute)
        }
        let writer = ELFRelocatableWriter(
            machine: architecture.elfMachine,
            sections: [
                .init(name: ".text", flags: ELF.SectionFlags.alloc | ELF.SectionFlags.execinstr,
                      alignment: StubArchitecture.trampolineStride, bytes: text)
            ],
            globals: functions + data)
        do {
            return try writer.bytes()
        } catch {
            throw .writing(error)
        }
    }

    /// Writes the object file to `path` (replacing it atomically).
    public func write(to path: String) throws(StubObjectError) {
        let bytes = try elfBytes()
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .writeFailed(path: path, reason: error.localizedDescription)
        }
    }

    /// The stub stage: lays out the stub for `needed` at `slide`, writes it to `path` and returns
    /// its layout.
    @discardableResult
    public static func make(
        needed: NeededSymbols, slide: ASLRSlide, architecture: StubArchitecture, path: String
    ) throws(StubObjectError) -> StubObject {
        let stub = StubObject(needed: needed, slide: slide, architecture: architecture)
        try stub.write(to: path)
        return stub
    }
}
