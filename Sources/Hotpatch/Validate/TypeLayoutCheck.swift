import Foundation
import ObjectFile

/// Refuses a patch whose code lays out a type of a rebuilt crate differently from the running
/// build (issue 13): a field added to the struct `main` keeps across `whisker_hot::call`s would
/// otherwise be read and written with the new offsets in the old, smaller memory.
///
/// Both sides come from DWARF: the running binary's (a dev build's full debug info), and the
/// patch objects' (patches compile with `-Cdebuginfo=2`, see ``WarmUp/arguments(sharedLink:)``).
/// Only types the patch's code mentions are in its objects, which are exactly the ones its code
/// could misread. Where the running build has no type information (a profile with
/// `debug = 1` or less) there is nothing to compare and the check says so in the log.
public enum TypeLayoutCheck {
    /// The types of the running build's path crates. Reading them from the fat binary's debug
    /// info takes a few hundred milliseconds (tens of megabytes of DWARF, its dependencies'
    /// units skipped unread), so it happens once per build: the warm-up writes them to the
    /// build's directory (``RunningTypeLayouts/fileName``), a patch loads that index (lazily on
    /// the first patch of a build made without it) and a process keeps what it loaded.
    static func running(_ build: FatBuild, layout: ProjectLayout) throws -> RunningTypeLayouts {
        let key = build.binary
        guard let identity = FileStatus(path: key) else { return RunningTypeLayouts(types: [:]) }
        if let hit = loaded.withLock({ $0[key] }), hit.identity == identity { return hit.layouts }
        let index = layout.build(build.id).root.appendingPathComponent(RunningTypeLayouts.fileName)
        let layouts: RunningTypeLayouts
        if let stored = RunningTypeLayouts.load(from: index, identity: identity) {
            layouts = stored
        } else {
            let types = try read(build).types
            layouts = RunningTypeLayouts(types: types)
            // A cache: a build whose index can't be written reads its binary again next process.
            try? RunningTypeLayouts.write(types, identity: identity, to: index)
        }
        loaded.withLock { $0[key] = (identity, layouts) }
        return layouts
    }

    /// Reads the running build's layouts from its binary (only the units of path packages, by
    /// unit name).
    static func read(_ build: FatBuild) throws -> DWARFTypeLayouts {
        let crates = Set(build.crates.filter(\.isPathPackage).map(\.crateName))
        guard let elf = try ObjectFile(path: build.binary).elf else { return DWARFTypeLayouts() }
        let directories = build.crates.compactMap(\.packageDirectory).map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        return try DWARFTypeLayouts.read(elf, namespaces: crates) { unit in
            // rustc names a unit `<root source>/@/<crate>.<hash>-cgu.<n>`, or with incremental
            // compilation `<root source>/@/<hash>`; the root source is relative for a workspace
            // member and absolute (registry, `/rustc/…/library`) for what isn't the user's.
            guard let range = unit.range(of: "/@/") else { return false }
            let root = unit[..<range.lowerBound]
            if !root.hasPrefix("/") || directories.contains(where: { root.hasPrefix($0) }) { return true }
            let cgu = unit[range.upperBound...]
            return crates.contains(String(cgu.prefix { $0 != "." }))
        }
    }

    /// Binaries whose layouts were loaded, by path; a handful (one per build a server patches).
    private static let loaded = Locked([String: (identity: FileStatus, layouts: RunningTypeLayouts)]())

    /// The objects whose types can differ from the running build's: with a codegen-unit
    /// selection only the *changed* units — a unit byte-identical to the warm-up's (the fat
    /// build's sources compiled the patch way) has the fat build's layouts, and an earlier
    /// patch's units were checked by that patch — else every object.
    static func objectsToCheck(_ compilation: PatchCompilation) -> [String] {
        guard let units = compilation.units else { return compilation.objects }
        return units.crates.flatMap { crate in
            let changed = Set(crate.changed)
            return crate.objects.filter { changed.contains(CodegenUnitSelection.unitName(ofObject: $0)) }
        }
    }

    /// One reason per type of `crates` the objects lay out differently from the running build.
    public static func reasons(running: DWARFTypeLayouts, objects: [String], crates: Set<String>) throws -> [UnpatchableReason] {
        try reasons(running: RunningTypeLayouts(types: running.types), objects: objects, crates: crates)
    }

    /// The same against the running build's index.
    static func reasons(running: RunningTypeLayouts, objects: [String], crates: Set<String>) throws -> [UnpatchableReason] {
        var patched: [String: DWARFTypeLayout] = [:]
        for object in objects {
            guard let elf = try ObjectFile(path: object).elf else { continue }
            for (name, layout) in try DWARFTypeLayouts.read(elf, namespaces: crates).types where patched[name] == nil {
                patched[name] = layout
            }
        }
        return patched.keys.sorted().compactMap { name in
            guard let new = patched[name], let old = running.layout(named: name), !sameLayout(old, new) else { return nil }
            return UnpatchableReason(
                code: "type_layout_changed",
                message: "the layout of `\(name)` changed (\(old.byteSize) → \(new.byteSize) bytes\(details(old, new))): "
                    + "memory the running code made keeps the old layout",
                type: name, oldSize: Int(clamping: old.byteSize), newSize: Int(clamping: new.byteSize))
        }
    }

    static func sameLayout(_ old: DWARFTypeLayout, _ new: DWARFTypeLayout) -> Bool {
        old.kind == new.kind && old.byteSize == new.byteSize && old.alignment == new.alignment
            && sortedFields(old) == sortedFields(new)
    }

    private static func sortedFields(_ layout: DWARFTypeLayout) -> [DWARFTypeLayout.Field] {
        layout.fields.sorted { ($0.variant ?? -2, $0.offset ?? 0, $0.name) < ($1.variant ?? -2, $1.offset ?? 0, $1.name) }
    }

    /// `; field `generation` added at offset 0; `ticks` moved from offset 0 to 8`, at most a few.
    static func details(_ old: DWARFTypeLayout, _ new: DWARFTypeLayout) -> String {
        func key(_ field: DWARFTypeLayout.Field) -> String { field.variant.map { "\($0)/\(field.name)" } ?? field.name }
        let before = Dictionary(old.fields.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.fields.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        var notes: [String] = []
        if old.alignment != new.alignment, let a = old.alignment, let b = new.alignment { notes.append("alignment \(a) → \(b)") }
        for field in new.fields where before[key(field)] == nil && !field.isDiscriminant {
            notes.append("field `\(field.name)` added\(field.offset.map { " at offset \($0)" } ?? "")")
        }
        for field in old.fields where after[key(field)] == nil && !field.isDiscriminant {
            notes.append("field `\(field.name)` removed")
        }
        for field in new.fields {
            guard let was = before[key(field)] else { continue }
            if was.offset != field.offset, let from = was.offset, let to = field.offset {
                notes.append("`\(field.name)` moved from offset \(from) to \(to)")
            } else if was.typeName != field.typeName || was.size != field.size {
                notes.append("`\(field.name)` is now `\(field.typeName ?? "?")`")
            }
        }
        if notes.count > 4 { notes = Array(notes.prefix(4)) + ["…"] }
        return notes.isEmpty ? "" : "; " + notes.joined(separator: "; ")
    }
}
