import Foundation
import ObjectFile
import Testing

/// Aggregate type layouts from rustc's DWARF (relocatable objects, linked libraries, DWARF 4 and
/// 5, x86_64 and aarch64) against what readelf prints of the same files.
@Suite(.serialized)
struct DWARFTypeLayoutTests {
    static let source = """
        pub struct State { pub ticks: u64, pub name: String }
        pub enum Shape { Circle(f64), Rect { w: u32, h: u32 }, Empty }
        #[derive(Clone, Copy)] pub enum Color { Red, Green }
        pub union Bits { pub int: u32, pub float: f32 }
        pub mod inner { pub struct Deep<T> { pub v: T, pub b: u8 } }
        #[no_mangle]
        pub fn use_all(s: &mut State, sh: &Shape, c: Color, d: inner::Deep<u16>, b: Bits) -> u64 {
            s.ticks += 1;
            let k = || s.ticks;
            (match sh { Shape::Circle(x) => *x as u64, Shape::Rect { w, h } => (*w + *h) as u64, Shape::Empty => 0 })
                + c as u64 + d.v as u64 + d.b as u64 + unsafe { b.int } as u64 + k()
        }
        """

    /// (rustc, extra flags, label): the host's rustc as an object and as a cdylib, DWARF 5, and
    /// Debian's rustc 1.63 cross-compiling for aarch64 when it is installed.
    static let variants: [(label: String, rustc: String, flags: [String], output: String)] = [
        ("object", "rustc", ["--crate-type=lib", "--emit=obj"], "t.o"),
        ("cdylib", "rustc", ["--crate-type=cdylib"], "libt.so"),
        ("dwarf5-object", "rustc", ["--crate-type=lib", "--emit=obj", "-Cdwarf-version=5"], "t.o"),
        ("aarch64-object", "/usr/bin/rustc", ["--crate-type=lib", "--emit=obj", "--target=aarch64-unknown-linux-gnu"], "t.o"),
    ]

    static func compile(_ label: String) throws -> (directory: URL, path: String)? {
        let variant = try #require(variants.first { $0.label == label })
        if variant.rustc.hasPrefix("/"), !FileManager.default.isExecutableFile(atPath: variant.rustc) { return nil }
        let directory = try Tools.temporaryDirectory("dwarf-\(label)")
        let source = directory.appendingPathComponent("t.rs")
        try Self.source.write(to: source, atomically: true, encoding: .utf8)
        let rustc = variant.rustc.hasPrefix("/") ? variant.rustc : try #require(Tools.which(variant.rustc))
        let output = directory.appendingPathComponent(variant.output).path
        let result = try Tools.run(rustc, variant.flags + ["-Cdebuginfo=2", "--crate-name=t", "-o", output, source.path])
        if label == "aarch64-object", result.status != 0 { return nil }  // no aarch64 std here
        try #require(result.status == 0, "\(result.stderr)")
        return (directory, output)
    }

    @Test("struct, enum, union and generic layouts", arguments: variants.map(\.label))
    func layoutsOfRustTypes(label: String) throws {
        guard let (directory, path) = try Self.compile(label) else { return }
        defer { try? FileManager.default.removeItem(at: directory) }
        let elf = try #require(try ObjectFile(path: path).elf)
        let layouts = try DWARFTypeLayouts.read(elf, namespaces: ["t"])

        let state = try #require(layouts.types["t::State"], "\(layouts.types.keys.sorted())")
        #expect(state.kind == .structure && state.byteSize == 32 && state.alignment == 8)
        #expect(Set(state.fields.map(\.name)) == ["ticks", "name"])
        #expect(Set(state.fields.compactMap(\.offset)) == [0, 8] || Set(state.fields.compactMap(\.offset)) == [0, 24])
        #expect(state.fields.first { $0.name == "name" }?.typeName == "String")
        #expect(state.fields.first { $0.name == "ticks" }?.size == 8)

        let shape = try #require(layouts.types["t::Shape"])
        #expect(shape.byteSize == 16)
        #expect(shape.fields.filter(\.isDiscriminant).count == 1)
        #expect(Set(shape.fields.compactMap(\.variant)) == [0, 1, 2])
        #expect(layouts.types["t::Shape::Rect"].map { Set($0.fields.map(\.name)) } == ["w", "h"])

        #expect(layouts.types["t::Color"]?.kind == .enumeration)
        #expect(layouts.types["t::Color"]?.byteSize == 1)
        #expect(layouts.types["t::Bits"]?.kind == .union)
        #expect(layouts.types["t::Bits"]?.fields.allSatisfy { $0.offset == 0 } == true)
        #expect(layouts.types["t::inner::Deep<u16>"]?.byteSize == 4)
        // Compiler-made closure environments are not state anyone keeps; std's types are another crate's.
        #expect(!layouts.types.keys.contains { $0.contains("{") })
        #expect(!layouts.types.keys.contains { $0.hasPrefix("alloc::") || $0.hasPrefix("core::") })
        #expect(try DWARFTypeLayouts.read(elf).types.keys.contains("alloc::string::String"))

        // Every size agrees with readelf's (name, DW_AT_byte_size) of the same structure DIEs.
        let theirs = try Self.readelfAggregates(path)
        for layout in layouts.types.values {
            let shortName = String(layout.name.split(separator: ":").last ?? "")
            #expect(theirs.contains("\(shortName) \(layout.byteSize)"), "\(label): \(layout.name) \(layout.byteSize) not in readelf's")
        }
    }

    @Test("a unit filter skips compilation units by name")
    func unitFilter() throws {
        guard let (directory, path) = try Self.compile("object") else { return }
        defer { try? FileManager.default.removeItem(at: directory) }
        let elf = try #require(try ObjectFile(path: path).elf)
        let none = try DWARFTypeLayouts.read(elf, units: { _ in false })
        #expect(none.types.isEmpty && none.unitsRead == 0 && none.unitsSkipped == 1)
        let named = try DWARFTypeLayouts.read(elf, units: { $0.contains("/@/t.") })
        #expect(named.unitsRead == 1 && named.types["t::State"] != nil)
    }

    @Test("corrupt debug info is an error or fewer types, never a crash")
    func corruptDebugInfo() throws {
        guard let (directory, path) = try Self.compile("object") else { return }
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let elf = try #require(try ObjectFile(path: path).elf)
        let info = try #require(elf.section(named: ".debug_info"))
        let abbrev = try #require(elf.section(named: ".debug_abbrev"))
        var generator = CorruptInputTests.SeededGenerator(state: 13)
        var errors = 0
        for round in 0..<400 {
            var bytes = original
            let section = round % 2 == 0 ? info : abbrev
            for _ in 0..<(1 + round % 4) {
                let at = Int(section.offset) + Int(generator.next() % section.size)
                bytes[at] = UInt8(truncatingIfNeeded: generator.next())
            }
            let mutated = try ObjectFile(file: MappedFile(bytes: bytes, name: "mutated-\(round).o"))
            do { _ = try DWARFTypeLayouts.read(try #require(mutated.elf)) } catch { errors += 1 }
        }
        #expect(errors > 0, "no mutation was noticed")
    }

    /// Lines `<name> <byte size>` of every structure, union and enumeration DIE readelf prints.
    static func readelfAggregates(_ path: String) throws -> Set<String> {
        let readelf = try #require(Tools.which("readelf"))
        let dump = try Tools.runChecked(readelf, ["--wide", "--debug-dump=info", path]).stdout
        var result = Set<String>()
        var inAggregate = false, name: String?, size: String?
        func flush() { if inAggregate, let name, let size { result.insert("\(name) \(size)") } }
        for line in dump.split(separator: "\n") {
            if line.contains("Abbrev Number") {
                flush()
                inAggregate = line.contains("DW_TAG_structure_type") || line.contains("DW_TAG_union_type") || line.contains("DW_TAG_enumeration_type")
                name = nil
                size = nil
            } else if line.contains("DW_AT_name") {
                name = line.components(separatedBy: "): ").last.map { $0.trimmingCharacters(in: .whitespaces) }
                    ?? line.components(separatedBy: ": ").last
            } else if line.contains("DW_AT_byte_size") {
                size = line.split(separator: " ").last.map(String.init)  // `: 16` or, wide, `: (data1) 16`
            }
        }
        flush()
        return result
    }
}
