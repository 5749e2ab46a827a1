import Dispatch
import Foundation
import Hotpatch
import ObjectFile
import Testing

/// HotpatchModuleCache: directory resolution, hits, damaged entries, changed binaries, concurrency.
@Suite(.serialized)
struct ModuleCacheTests {
    /// A scratch cache directory and a small Rust binary to cache.
    final class Fixture {
        let root: URL
        let cache: HotpatchModuleCache
        let binary: String

        init(_ label: String) throws {
            root = try Tools.temporaryDirectory("cache-\(label)")
            cache = HotpatchModuleCache(directory: root.appendingPathComponent("cache").path)
            binary = try RustProgram.build(counterLikeRustSource, name: "app", in: root)
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        var entries: [String] {
            let folder = root.appendingPathComponent("cache/symbols").path
            return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { "\(folder)/\($0)" }
        }
    }

    @Test("cache directory: explicit > WHISKER_CACHE_DIR > XDG_CACHE_HOME > HOME")
    func directoryResolution() {
        let all = ["WHISKER_CACHE_DIR": "/w", "XDG_CACHE_HOME": "/x", "HOME": "/h"]
        #expect(HotpatchModuleCache.resolveDirectory(explicit: "/e", environment: all) == "/e")
        #expect(HotpatchModuleCache.resolveDirectory(explicit: nil, environment: all) == "/w")
        #expect(HotpatchModuleCache.resolveDirectory(explicit: "", environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/whisker-hotpatch")
        #expect(HotpatchModuleCache.resolveDirectory(environment: ["WHISKER_CACHE_DIR": "", "HOME": "/h"]) == "/h/.cache/whisker-hotpatch")
        #expect(HotpatchModuleCache(directory: "/tmp/c").entryPath(forDigest: "ab") == "/tmp/c/symbols/ab.wsym")
    }

    @Test("first load misses, second hits, and the loaded table equals the parsed one")
    func missThenHit() throws {
        let fixture = try Fixture("hit")
        let parsedRead = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache)
        let (parsed, first) = (parsedRead.table, parsedRead.outcome)
        #expect(first == .miss)
        let digest = try HotpatchModuleCache.sha256(ofFileAt: fixture.binary)
        #expect(fixture.entries == [fixture.cache.entryPath(forDigest: digest)])
        let loadedRead = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache)
        let (loaded, second) = (loadedRead.table, loadedRead.outcome)
        #expect(second == .hit)
        try expectEqual(loaded, parsed)
        #expect(loaded["main"] == parsed["main"])
        #expect(loaded["main"]?.defined == true)
        for index in stride(from: 0, to: loaded.count, by: 7) {
            #expect(loaded.allIndices(named: loaded.name(at: index)) == parsed.allIndices(named: parsed.name(at: index)))
        }
        // sha256 agrees with the system's tool.
        if let tool = Tools.which("sha256sum") {
            #expect(try Tools.runChecked(tool, [fixture.binary]).stdout.hasPrefix(digest))
        }
    }

    @Test("a damaged entry is detected, rebuilt and then hits again", arguments: [
        "flip a payload byte", "flip a header byte", "flip the last byte", "truncate", "truncate to the header",
        "empty", "garbage", "another binary's entry",
    ])
    func damagedEntryIsRebuilt(damage: String) throws {
        let fixture = try Fixture("damage")
        let parsed = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache).table
        let entry = try #require(fixture.entries.first)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry)))
        switch damage {
        case "flip a payload byte": bytes[128 + (bytes.count - 128) / 2] ^= 0x10
        case "flip a header byte": bytes[75] ^= 0x01
        case "flip the last byte": bytes[bytes.count - 1] ^= 0x80
        case "truncate": bytes.removeLast(bytes.count / 3)
        case "truncate to the header": bytes.removeLast(bytes.count - 128)
        case "empty": bytes = []
        case "garbage": bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        default:
            // A valid entry, but for a different binary, stored under this binary's name.
            let other = try RustProgram.build("fn main() { println!(\"other\"); }", name: "other", in: fixture.root)
            _ = try CachedSymbolTable.make(forBinaryAt: other, architecture: nil, cache: fixture.cache)
            let otherEntry = try #require(fixture.entries.first { $0 != entry })
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: otherEntry)))
        }
        try Data(bytes).write(to: URL(fileURLWithPath: entry))

        let rebuiltRead = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache)
        let (rebuilt, outcome) = (rebuiltRead.table, rebuiltRead.outcome)
        guard case .rebuiltCorrupt(let reason) = outcome else {
            Issue.record("expected a rebuild after '\(damage)', got \(outcome)")
            return
        }
        #expect(!reason.isEmpty)
        try expectEqual(rebuilt, parsed)
        let again = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache).outcome
        #expect(again == .hit)
    }

    @Test("a changed binary misses and never gets the old table")
    func changedBinaryMisses() throws {
        let fixture = try Fixture("changed")
        let old = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache).table
        #expect(old.first { $0.name.contains("5extra") } == nil)
        // Rebuild the same path with an extra function.
        let changed = counterLikeRustSource.replacingOccurrences(
            of: "fn main() {", with: "#[inline(never)] fn extra() -> u64 { 42 }\nfn main() {\n    println!(\"{}\", extra());")
        _ = try RustProgram.build(changed, name: "app", in: fixture.root)
        let newRead = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache)
        let (new, outcome) = (newRead.table, newRead.outcome)
        #expect(outcome == .miss)
        #expect(new.contains { $0.name.contains("5extra") })
        #expect(fixture.entries.count == 2)
        try expectEqual(new, SymbolTable.make(contentsOf: fixture.binary))
    }

    @Test("threads racing to fill the same entry all succeed and leave one valid file")
    func concurrentWriters() throws {
        let fixture = try Fixture("race")
        let cache = fixture.cache
        let binary = fixture.binary
        let outcomes = OutcomeLog()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do {
                let tableRead = try CachedSymbolTable.make(forBinaryAt: binary, architecture: nil, cache: cache)
                let (table, outcome) = (tableRead.table, tableRead.outcome)
                outcomes.add(outcome, table["main"] != nil)
            } catch {
                outcomes.add(.rebuiltCorrupt(reason: "threw \(error)"), false)
            }
        }
        #expect(outcomes.results.count == 8)
        #expect(outcomes.results.allSatisfy { ($0.0 == .miss || $0.0 == .hit) && $0.1 }, "\(outcomes.results)")
        #expect(fixture.entries.count == 1, "temporary files left: \(fixture.entries)")
        let after = try CachedSymbolTable.make(forBinaryAt: binary, architecture: nil, cache: cache).outcome
        #expect(after == .hit)
    }

    @Test("temporary files abandoned by a killed writer are removed; fresh ones are left alone")
    func abandonedTemporaries() throws {
        let fixture = try Fixture("abandoned")
        let folder = fixture.root.appendingPathComponent("cache/symbols")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let old = folder.appendingPathComponent("0000.wsym.tmp-1-2")
        let fresh = folder.appendingPathComponent("0000.wsym.tmp-3-4")
        try Data([1, 2, 3]).write(to: old)
        try Data([1, 2, 3]).write(to: fresh)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: old.path)
        _ = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: fixture.cache)
        #expect(!FileManager.default.fileExists(atPath: old.path))
        #expect(FileManager.default.fileExists(atPath: fresh.path))
    }

    @Test("universal slices are cached separately")
    func universalSlices() throws {
        let directory = try Tools.temporaryDirectory("cache-fat")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("m.c")
        try "int shared_fn(int x) { return x * 2; }".write(to: source, atomically: true, encoding: .utf8)
        var slices: [(UInt32, UInt32, [UInt8])] = []
        for (triple, cpu) in [("arm64-apple-macos13", (UInt32(0x0100_000c), UInt32(0))), ("x86_64-apple-macos13", (UInt32(0x0100_0007), UInt32(3)))] {
            let object = directory.appendingPathComponent("\(triple).o").path
            _ = try Tools.runChecked(Tools.clang, ["-c", "--target=\(triple)", source.path, "-o", object])
            slices.append((cpu.0, cpu.1, [UInt8](try Data(contentsOf: URL(fileURLWithPath: object)))))
        }
        let fat = directory.appendingPathComponent("fat.o").path
        try Data(universalFile(slices)).write(to: URL(fileURLWithPath: fat))
        let cache = HotpatchModuleCache(directory: directory.appendingPathComponent("cache").path)
        let armRead = try CachedSymbolTable.make(forBinaryAt: fat, architecture: "arm64", cache: cache)
        let (arm, armOutcome) = (armRead.table, armRead.outcome)
        let intelRead = try CachedSymbolTable.make(forBinaryAt: fat, architecture: "x86_64", cache: cache)
        let (intel, intelOutcome) = (intelRead.table, intelRead.outcome)
        #expect(armOutcome == .miss && intelOutcome == .miss)
        #expect(arm.architecture == "arm64" && intel.architecture == "x86_64")
        let armAgainRead = try CachedSymbolTable.make(forBinaryAt: fat, architecture: "arm64", cache: cache)
        let (armAgain, again) = (armAgainRead.table, armAgainRead.outcome)
        #expect(again == .hit && armAgain.architecture == "arm64")
        #expect(armAgain["_shared_fn"]?.kind == .function)
        // Without a choice the host's slice (or the first) is used, and shares that slice's entry.
        let chosenRead = try CachedSymbolTable.make(forBinaryAt: fat, architecture: nil, cache: cache)
        let (chosen, chosenOutcome) = (chosenRead.table, chosenRead.outcome)
        #expect(chosenOutcome == .hit)
        #expect(chosen.architecture == (ObjectFile.hostArchitecture == "x86_64" ? "x86_64" : "arm64"))
        let digest = try HotpatchModuleCache.sha256(ofFileAt: fat)
        let entries = try FileManager.default.contentsOfDirectory(atPath: "\(cache.directory)/symbols").sorted()
        #expect(entries == ["\(digest)-arm64.wsym", "\(digest)-x86_64.wsym"])
        // A thin file asked for another architecture fails, from the cache as from a parse.
        let thin = directory.appendingPathComponent("arm64-apple-macos13.o").path
        _ = try CachedSymbolTable.make(forBinaryAt: thin, architecture: nil, cache: cache)
        #expect(throws: ObjectFileError.self) { try CachedSymbolTable.make(forBinaryAt: thin, architecture: "x86_64", cache: cache) }
    }

    @Test("an unwritable cache still returns the parsed table")
    func unwritableCache() throws {
        let fixture = try Fixture("readonly")
        let blocker = fixture.root.appendingPathComponent("not-a-directory")
        try "x".write(to: blocker, atomically: true, encoding: .utf8)
        let cache = HotpatchModuleCache(directory: blocker.appendingPathComponent("cache").path)
        let tableRead = try CachedSymbolTable.make(forBinaryAt: fixture.binary, architecture: nil, cache: cache)
        let (table, outcome) = (tableRead.table, tableRead.outcome)
        #expect(outcome == .miss)
        #expect(table["main"] != nil)
    }

    @Test("an unreadable binary throws ObjectFileError, and nothing is cached")
    func unreadableBinary() throws {
        let fixture = try Fixture("bad")
        let text = fixture.root.appendingPathComponent("notes.txt").path
        try "not a binary".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: ObjectFileError.self) { try CachedSymbolTable.make(forBinaryAt: text, architecture: nil, cache: fixture.cache) }
        #expect(fixture.entries.isEmpty)
    }

    // MARK: Helpers

    private func expectEqual(_ a: SymbolTable, _ b: SymbolTable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        #expect(a.architecture == b.architecture && a.format == b.format && a.fileType == b.fileType, sourceLocation: sourceLocation)
        #expect(a.sections == b.sections, sourceLocation: sourceLocation)
        #expect(a.tls == b.tls, sourceLocation: sourceLocation)
        #expect(a.fromDynamicSymbols == b.fromDynamicSymbols, sourceLocation: sourceLocation)
        guard a.count == b.count else { return }
        var mismatches = 0
        for index in a.indices where a[index] != b[index] { mismatches += 1 }
        #expect(mismatches == 0, sourceLocation: sourceLocation)
    }

    private func universalFile(_ slices: [(UInt32, UInt32, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        func be32(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { out.append(contentsOf: $0) } }
        be32(0xcafe_babe)
        be32(UInt32(slices.count))
        var offset = 4096
        var offsets: [Int] = []
        for slice in slices {
            offsets.append(offset)
            offset += (slice.2.count + 4095) / 4096 * 4096
        }
        for (slice, sliceOffset) in zip(slices, offsets) {
            be32(slice.0); be32(slice.1); be32(UInt32(sliceOffset)); be32(UInt32(slice.2.count)); be32(12)
        }
        for (slice, sliceOffset) in zip(slices, offsets) {
            out += [UInt8](repeating: 0, count: sliceOffset - out.count)
            out += slice.2
        }
        return out
    }
}

/// Thread-safe collection of outcomes from concurrent cache calls.
final class OutcomeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(CacheOutcome, Bool)] = []

    func add(_ outcome: CacheOutcome, _ ok: Bool) {
        lock.lock()
        stored.append((outcome, ok))
        lock.unlock()
    }

    var results: [(CacheOutcome, Bool)] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
