import Foundation
@testable import Hotpatch
import ObjectFile
import Testing

/// The patch link without the compiler driver (``DirectLinkTemplate``) and the running build's
/// layout index (``RunningTypeLayouts``): both caches must give what the slow path gives.
@Suite struct DirectLinkTests {
    @Test func splitsGCCAndClangCommandLines() throws {
        #expect(DirectLinkTemplate.splitCommandLine(#" /usr/lib/gcc/collect2 -plugin /x.so "-plugin-opt=-a" -o out.so"#)
            == ["/usr/lib/gcc/collect2", "-plugin", "/x.so", "-plugin-opt=-a", "-o", "out.so"])
        #expect(DirectLinkTemplate.splitCommandLine(#" "/usr/bin/ld.lld" "-soname" "a b\"c" "-o" "x""#)
            == ["/usr/bin/ld.lld", "-soname", "a b\"c", "-o", "x"])
        #expect(DirectLinkTemplate.splitCommandLine(#" "unterminated"#) == nil)
    }

    @Test func theTemplateHoldsNoPerPatchPath() throws {
        let plan = try LinkPlan.make(
            os: .linux, linker: "cc", capturedArguments: ["-m64"], objects: ["/c/patches/3/a.o", "/c/patches/2/lib2.so"], stubObject: nil,
            outputPath: "/c/patches/3/libwhisker-patch-3-abcdef.so")
            .insertingBeforeOutput(["-Wl,--version-script=/c/patches/3/exports.map"])
        let generic = try #require(plan.templateArguments(inputs: ["/c/patches/3/a.o", "/c/patches/2/lib2.so"]))
        #expect(generic.contains(DirectLinkTemplate.Placeholder.inputs))
        #expect(generic.contains("-Wl,-soname,\(DirectLinkTemplate.Placeholder.fileName)"))
        #expect(generic.contains("-Wl,--version-script=\(DirectLinkTemplate.Placeholder.directory)/exports.map"))
        #expect(!generic.contains { $0.contains("patches/3") || $0.contains("patches/2") })
        // Inputs that are not one run of arguments can't be templated.
        #expect(plan.templateArguments(inputs: ["/c/patches/2/lib2.so", "/c/patches/3/a.o"]) == nil)
    }

    /// A real link both ways: the direct one is the driver's linker with the driver's
    /// arguments, so the libraries export the same symbols; the template is asked for once.
    @Test func linksWhatTheDriverLinks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-direct-link-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let templates = directory.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("a.c")
        try Data("int whisker_direct_f(void) { return 7; }\n".utf8).write(to: source)
        let object = directory.appendingPathComponent("a.o").path
        let compiled = try CommandRunner.run(Command("cc", ["-c", "-fPIC", "-g", source.path, "-o", object]))
        try #require(compiled.succeeded, "cc: \(compiled.stderrText)")

        func plan(_ patch: Int) throws -> LinkPlan {
            let patchDirectory = directory.appendingPathComponent("patches/\(patch)")
            try FileManager.default.createDirectory(at: patchDirectory, withIntermediateDirectories: true)
            return try LinkPlan.make(
                os: .linux, linker: "cc", capturedArguments: ["-fuse-ld=lld"], objects: [object], stubObject: nil,
                outputPath: patchDirectory.appendingPathComponent("libwhisker-patch-\(patch)-00000\(patch).so").path)
        }
        let viaDriver = try plan(1)
        try LinkOutcome.run(viaDriver)
        let direct = try #require(try plan(2).direct(inputs: [object], templates: templates))
        #expect(direct.linker.hasSuffix("ld.lld") || direct.linker.hasSuffix("rust-lld"))
        #expect(direct.arguments.contains(object))
        #expect(direct.arguments.contains(direct.outputPath))
        try LinkOutcome.run(direct)
        let names = { (path: String) in
            let table = try SymbolTable.make(contentsOf: path)
            return Set(table.indices.filter { table.isDefined(at: $0) }.map { table.name(at: $0) })
        }
        #expect(try names(direct.outputPath).contains("whisker_direct_f"))
        #expect(try names(direct.outputPath) == names(viaDriver.outputPath))
        // Stripped: no debug info ships in a patch library.
        let elf = try #require(try ObjectFile(path: direct.outputPath).elf)
        #expect(elf.section(named: ".debug_info") == nil)
        // One template file per flag set; a later patch's plan takes it with its own paths.
        #expect(try FileManager.default.contentsOfDirectory(atPath: templates.path).count == 1)
        let third = try #require(try plan(3).direct(inputs: [object], templates: templates))
        #expect(third.arguments.contains(third.outputPath) && !third.arguments.contains(direct.outputPath))
    }

    @Test func runningLayoutsIndexRoundTrips() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("whisker-layouts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let binary = directory.appendingPathComponent("bin")
        try Data("x".utf8).write(to: binary)
        let identity = try #require(FileStatus(path: binary.path))
        let types = [
            "app::State": DWARFTypeLayout(name: "app::State", kind: .structure, byteSize: 16, alignment: 8, fields: [
                .init(name: "ticks", offset: 0, typeName: "u64", size: 8),
                .init(name: "name", offset: 8, typeName: nil, size: nil),
            ]),
            "app::Mode": DWARFTypeLayout(name: "app::Mode", kind: .enumeration, byteSize: 1, alignment: nil, fields: [
                .init(name: "", offset: 0, typeName: "u8", size: 1, isDiscriminant: true),
                .init(name: "Fast", offset: nil, typeName: "", size: 0, variant: -1),
            ]),
            "app::Empty": DWARFTypeLayout(name: "app::Empty", kind: .union, byteSize: 0, alignment: 1, fields: []),
        ]
        let index = directory.appendingPathComponent(RunningTypeLayouts.fileName)
        try RunningTypeLayouts.write(types, identity: identity, to: index)
        let loaded = try #require(RunningTypeLayouts.load(from: index, identity: identity))
        for (name, layout) in types { #expect(loaded.layout(named: name) == layout) }
        #expect(loaded.layout(named: "app::Other") == nil)
        // Another binary at the same path: the index is not its.
        try Data("yy".utf8).write(to: binary)
        #expect(RunningTypeLayouts.load(from: index, identity: try #require(FileStatus(path: binary.path))) == nil)
    }
}
