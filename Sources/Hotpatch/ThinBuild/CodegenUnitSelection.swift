import Foundation
import ObjectFile

/// Which of a crate's codegen-unit objects go into the patch library: only the code that differs
/// from what the process runs, plus what that code needs to be called correctly.
///
/// An incremental replay writes one object per codegen unit; a unit rustc did not re-codegen is a
/// byte-identical copy of the warm-up compile's (the fat build's sources compiled the patch way),
/// so the executable already runs its code. A unit is linked when
/// 1. it differs from the warm-up's unit of the same name, or is new (*changed*);
/// 2. an earlier patch of the same build linked it (the set only grows: an old function's entry
///    may already jump into an earlier library, and routes must never fall back to stale code);
/// 3. it references a symbol a linked unit defines (*caller*): the executable's copy of its code
///    would call the old definition, so a `whisker_hot::call` through it must reach the new one;
/// 4. a linked unit needs a symbol only it defines that the executable lacks (*provider*: code
///    the fat build inlined or never instantiated).
/// Everything else resolves to the executable's code and data through the shared-link machinery.
public struct CodegenUnitSelection: Sendable, Equatable, Codable {
    /// One crate's outcome.
    public struct Crate: Sendable, Equatable, Codable {
        public var captureFile: String
        /// Codegen units the compile wrote.
        public var units: Int
        /// Units that differ from the warm-up (rule 1).
        public var changed: [String]
        /// Every unit linked, by name, sorted.
        public var linked: [String]
        /// The linked objects, in the compile's order.
        public var objects: [String]
        /// The functions of the linked units that differ from the running code or reach code that
        /// does: the link's roots (everything else in the units is kept only if they use it).
        public var roots: [String]
    }

    public var crates: [Crate]

    /// One crate's counts, for the PatchPlan and logs.
    public struct Summary: Sendable, Equatable, Codable {
        public var captureFile: String
        public var units: Int
        public var changed: Int
        public var linked: Int
    }

    public var summaries: [Summary] {
        crates.map { Summary(captureFile: $0.captureFile, units: $0.units, changed: $0.changed.count, linked: $0.linked.count) }
    }

    /// Every crate's roots, sorted.
    public var roots: [String] { Array(Set(crates.flatMap(\.roots))).sorted() }

    /// The objects to link, crate by crate in plan order.
    public var objects: [String] { crates.flatMap(\.objects) }
}

extension CodegenUnitSelection {
    /// The name of a codegen unit in an object's file name: `<crate><extra>.<unit>.<session>.rcgu.o`
    /// → `<unit>` (rustc 1.63 writes no session part: `<crate><extra>.<unit>.rcgu.o`); a
    /// single-unit `<crate><extra>.o` is the unit `""`. The session part changes with every
    /// compile, the unit name does not. (`<crate><extra>` has no dot: crate names can't.)
    public static func unitName(ofObject path: String) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard name.hasSuffix(".rcgu.o"), parts.count >= 4 else { return "" }
        return String(parts[1])
    }
}

/// What the selection needs to know of one codegen-unit object: its functions (fingerprint and
/// the symbols each references), the names it defines for other objects, and what it references.
struct UnitSymbols: Sendable {
    struct Function: Sendable {
        var fingerprints: [[UInt8]]
        var references: Set<String>
    }

    var functions: [String: Function]
    /// Names other objects can bind to (global or hidden), functions and data.
    var defines: Set<String>
    /// Undefined names.
    var references: Set<String>
    /// Undefined names no function references: held by data (a table of function pointers).
    var dataReferences: Set<String>

    init(object path: String) throws {
        let table = try SymbolTable.make(contentsOf: path)
        var defines = Set<String>()
        var references = Set<String>()
        for index in table.indices {
            let name = table.name(at: index)
            guard !name.isEmpty else { continue }
            if !table.isDefined(at: index) {
                references.insert(name)
            } else if table.binding(at: index) != .local {
                defines.insert(name)
            }
        }
        var functions: [String: Function] = [:]
        var functionReferences = Set<String>()
        do {
            for (name, copies) in try ObjectFunctions.reading(objects: [path]).functions {
                let refs = copies.reduce(into: Set<String>()) { $0.formUnion($1.references) }
                functions[name] = Function(fingerprints: copies.map(\.fingerprint).sorted { $0.lexicographicallyPrecedes($1) }, references: refs)
                functionReferences.formUnion(refs)
            }
        } catch {
            throw CodegenUnitSelectionError.unreadableObject(path: path, reason: error.message)
        }
        self.functions = functions
        self.defines = defines
        self.references = references
        self.dataReferences = references.subtracting(functionReferences)
    }
}

/// An object the selection could not read (it came from rustc, so this is rare: a full disk, a
/// file removed while the patch ran).
public enum CodegenUnitSelectionError: HotpatchError {
    case unreadableObject(path: String, reason: String)

    public var code: String { "codegen_unit_unreadable" }
    public var message: String {
        switch self {
        case .unreadableObject(let path, let reason): "cannot read the codegen-unit object \(path): \(reason)"
        }
    }
    public var hint: String? { "build again (`whisker-dev build`) if the build's warm-up objects were removed" }
}

extension UnitSymbols {
    /// Parsed warm-up objects, which never change once written: the server's later patches of a
    /// build pay for each unit once, not once per patch.
    private static let cache = Locked<[String: UnitSymbols]>([:])

    /// Forgets the cached units under `directory` (a warm-up compiled again into it).
    static func forget(under directory: String) {
        cache.withLock { cache in cache = cache.filter { !$0.key.hasPrefix(directory) } }
        CodegenUnitIndex.forget(under: directory)
    }

    /// The object's units, read once per process when `cached` (a warm-up object), else read now.
    static func load(_ path: String, cached: Bool) throws -> UnitSymbols {
        if cached, let hit = cache.withLock({ $0[path] }) { return hit }
        let symbols = try UnitSymbols(object: path)
        if cached { cache.withLock { $0[path] = symbols } }
        return symbols
    }
}

extension CodegenUnitSelection {
    /// Selects per crate (see the type); the patch's stage
    /// (``make(plan:result:build:previouslyLinked:warmUp:cache:)``) calls it. `baselines`: capture file → the
    /// warm-up's objects of that crate (a crate without any links all of its objects); `previouslyLinked`:
    /// capture file → units earlier patches of the build linked; `executableDefines`: whether the fat binary
    /// defines a name.
    public static func make(
        crates: [CrateBuildResult], baselines: [String: [String]], previouslyLinked: [String: [String]],
        executableDefines: (String) -> Bool
    ) throws -> CodegenUnitSelection {
        var result: [Crate] = []
        // Names whose code differs from the executable's, across crates: a dependent's function
        // calling a library's changed function changes behaviour too. Crates come dependencies first.
        var dirty = Set<String>()
        for crate in crates {
            guard let baseline = baselines[crate.captureFile], !baseline.isEmpty else {
                // No warm-up to compare with: all of it is linked, and all of it is a root.
                let functions = try crate.objectPaths.flatMap { try UnitSymbols.load($0, cached: false).functions.keys }
                result.append(Crate(
                    captureFile: crate.captureFile, units: crate.objectPaths.count, changed: crate.objectPaths.map(unitName(ofObject:)),
                    linked: crate.objectPaths.map(unitName(ofObject:)).sorted(), objects: crate.objectPaths, roots: functions.sorted()))
                continue
            }
            let (selected, crateDirty) = try selectUnits(
                crate: crate, baseline: baseline, previouslyLinked: Set(previouslyLinked[crate.captureFile] ?? []),
                upstreamDirty: dirty, executableDefines: executableDefines)
            result.append(selected)
            dirty.formUnion(crateDirty)
        }
        return CodegenUnitSelection(crates: result)
    }

    static func selectUnits(
        crate: CrateBuildResult, baseline: [String], previouslyLinked: Set<String>, upstreamDirty: Set<String>,
        executableDefines: (String) -> Bool
    ) throws -> (Crate, dirty: Set<String>) {
        let baselineByUnit = Dictionary(baseline.map { (unitName(ofObject: $0), $0) }, uniquingKeysWith: { first, _ in first })
        let currentByUnit = Dictionary(crate.objectPaths.map { (unitName(ofObject: $0), $0) }, uniquingKeysWith: { first, _ in first })

        // Unchanged units take the warm-up object's analysis (same bytes, read once per build).
        var changed = Set<String>()
        var changedSymbols: [String: UnitSymbols] = [:]
        // Names whose code or data differs from what the executable runs.
        var dirty = upstreamDirty
        for (unit, path) in currentByUnit {
            if let old = baselineByUnit[unit], try sameContents(old, path) { continue }
            changed.insert(unit)
            let new = try UnitSymbols.load(path, cached: false)
            changedSymbols[unit] = new
            let before = try baselineByUnit[unit].map { try UnitSymbols.load($0, cached: true) }
            for (name, function) in new.functions where before?.functions[name]?.fingerprints != function.fingerprints {
                dirty.insert(name)
            }
            // Data cannot be compared by name cheaply; what a changed unit defines besides its
            // functions counts as changed.
            dirty.formUnion(new.defines.subtracting(new.functions.keys))
        }
        func symbols(of unit: String) throws -> UnitSymbols? {
            if let new = changedSymbols[unit] { return new }
            return try baselineByUnit[unit].map { try UnitSymbols.load($0, cached: true) }
        }

        // Who references a name: functions (by their own name) and units' data — the warm-up's
        // index, with the changed units' entries replaced and units the compile no longer wrote gone.
        let index = OverlaidUnitIndex(
            base: try CodegenUnitIndex.warmUp(baselineByUnit),
            replaced: changed.union(Set(baselineByUnit.keys).subtracting(currentByUnit.keys)),
            overlay: CodegenUnitIndex(changedSymbols))

        // A function calling (or taking the address of) changed code changes behaviour too: the
        // executable's copy would reach the old code. Propagate to a fixed point.
        var linked = changed.union(previouslyLinked.intersection(currentByUnit.keys))
        var queue = Array(dirty)
        // Units linked earlier stay linked, but only functions that differ from the warm-up (and
        // their callers) are changed code: an earlier patch's changes are still changed against
        // the warm-up, so they are found again here.
        while let name = queue.popLast() {
            for caller in index.functionReferrers(of: name) where dirty.insert(caller.function).inserted {
                queue.append(caller.function)
                for unit in index.units(ofFunction: caller.function) { linked.insert(unit) }
            }
            for unit in index.dataReferrers(of: name) where linked.insert(unit).inserted {
                for defined in try symbols(of: unit)?.defines ?? [] where dirty.insert(defined).inserted { queue.append(defined) }
            }
        }
        // What linked code needs that only this crate's units define.
        var providers = Array(linked)
        while let unit = providers.popLast() {
            for name in try symbols(of: unit)?.references ?? [] where !executableDefines(name) {
                if let provider = index.definer(of: name), linked.insert(provider).inserted { providers.append(provider) }
            }
        }
        var roots = Set<String>()
        for unit in linked {
            for name in try symbols(of: unit)?.functions.keys ?? [:].keys where dirty.contains(name) { roots.insert(name) }
        }
        let selected = Crate(
            captureFile: crate.captureFile, units: currentByUnit.count, changed: changed.sorted(), linked: linked.sorted(),
            objects: crate.objectPaths.filter { linked.contains(unitName(ofObject: $0)) }, roots: roots.sorted())
        return (selected, dirty)
    }

    /// Byte equality of two files: the same file (rustc reuses a unit by hard-linking its saved
    /// copy, which the warm-up's is too), else size, else bytes.
    static func sameContents(_ lhs: String, _ rhs: String) throws -> Bool {
        if let left = FileStatus(path: lhs), let right = FileStatus(path: rhs), left.isSameFile(as: right) { return true }
        let left = try MappedFile(path: lhs)
        let right = try MappedFile(path: rhs)
        let a = left.unsafeBytes
        let b = right.unsafeBytes
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == b.count }
        return memcmp(pa, pb, a.count) == 0
    }
}
