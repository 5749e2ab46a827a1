import Foundation
import ObjectFile

/// The running build's type layouts, by qualified name: what ``TypeLayoutCheck`` compares a
/// patch's types with. Either read from the binary just now (`types`), or loaded from the
/// build's index file (`records`: one line per type, decoded only when a patch asks for that
/// type — a patch mentions a few dozen of the build's hundreds or thousands).
///
/// The index is a cache, not a record: a line per type, `name \t kind \t size \t alignment \t
/// fields`, fields separated by U+001E and their parts by U+001F; its first line names the
/// binary it was read from (device, inode, size, modification time), so a binary replaced in
/// place is read again.
struct RunningTypeLayouts: Sendable {
    private var types: [String: DWARFTypeLayout]
    private var records: [Substring: Substring]

    /// In `builds/<id>/`, beside the build record.
    static let fileName = "type-layouts.tsv"
    private static let magic = "whisker-type-layouts 1"

    init(types: [String: DWARFTypeLayout]) {
        self.types = types
        records = [:]
    }

    private init(records: [Substring: Substring]) {
        types = [:]
        self.records = records
    }

    var isEmpty: Bool { types.isEmpty && records.isEmpty }

    func layout(named name: String) -> DWARFTypeLayout? {
        if let layout = types[name] { return layout }
        guard let record = records[Substring(name)] else { return nil }
        return Self.decode(record, name: name)
    }

    // MARK: - The index file

    private static func header(_ identity: FileStatus) -> String {
        "\(magic) \(identity.device) \(identity.inode) \(identity.size) \(identity.modifiedNs)"
    }

    /// The index at `url` if it was written for the binary `identity` describes; nil otherwise
    /// (absent, another binary, unreadable).
    static func load(from url: URL, identity: FileStatus) -> RunningTypeLayouts? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        guard let first = lines.popFirst(), first == header(identity) else { return nil }
        var records: [Substring: Substring] = [:]
        records.reserveCapacity(lines.count)
        for line in lines {
            guard let tab = line.firstIndex(of: "\t") else { return nil }
            records[line[..<tab]] = line[line.index(after: tab)...]
        }
        return RunningTypeLayouts(records: records)
    }

    /// Writes `types` as the index of the binary `identity` describes. Throws (and writes
    /// nothing) when a name holds one of the separators, which rustc's names never do.
    static func write(_ types: [String: DWARFTypeLayout], identity: FileStatus, to url: URL) throws {
        var text = header(identity) + "\n"
        for name in types.keys.sorted() {
            guard let layout = types[name] else { continue }
            let fields = layout.fields.map { field in
                [field.name, field.offset.map(String.init) ?? "", field.typeName.map { "+" + $0 } ?? "-",
                 field.size.map(String.init) ?? "", field.variant.map(String.init) ?? "", field.isDiscriminant ? "1" : "0"]
                    .joined(separator: fieldPartSeparator)
            }
            let strings = [name] + layout.fields.flatMap { [$0.name, $0.typeName ?? ""] }
            guard !strings.contains(where: { $0.contains(where: isSeparator) }) else {
                throw CocoaError(.fileWriteInapplicableStringEncoding)
            }
            text += [name, layout.kind.rawValue, String(layout.byteSize), layout.alignment.map(String.init) ?? "",
                     fields.joined(separator: fieldSeparator)].joined(separator: "\t") + "\n"
        }
        try JSONFile.writeAtomically(Data(text.utf8), to: url)
    }

    private static let fieldSeparator = "\u{1E}"
    private static let fieldPartSeparator = "\u{1F}"

    private static func isSeparator(_ character: Character) -> Bool {
        character == "\t" || character == "\n" || character == "\u{1E}" || character == "\u{1F}"
    }

    /// One record (the line after the name); nil when it is malformed, which makes the type
    /// unknown to the check (as a type the running build doesn't have).
    private static func decode(_ record: Substring, name: String) -> DWARFTypeLayout? {
        let columns = record.split(separator: "\t", omittingEmptySubsequences: false)
        guard columns.count == 4, let kind = DWARFTypeLayout.Kind(rawValue: String(columns[0])),
              let byteSize = UInt64(columns[1]) else { return nil }
        var fields: [DWARFTypeLayout.Field] = []
        for field in columns[3].split(separator: "\u{1E}", omittingEmptySubsequences: true) {
            let parts = field.split(separator: "\u{1F}", omittingEmptySubsequences: false)
            guard parts.count == 6 else { return nil }
            fields.append(DWARFTypeLayout.Field(
                name: String(parts[0]), offset: UInt64(parts[1]),
                typeName: parts[2].hasPrefix("+") ? String(parts[2].dropFirst()) : nil,
                size: UInt64(parts[3]), variant: Int64(parts[4]), isDiscriminant: parts[5] == "1"))
        }
        return DWARFTypeLayout(name: name, kind: kind, byteSize: byteSize, alignment: UInt64(columns[2]), fields: fields)
    }
}
