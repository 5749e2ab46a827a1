import ObjectFile

/// What a symbol names, as the pipeline cares about it.
public enum SymbolKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Code: ELF `STT_FUNC` and `STT_GNU_IFUNC`, Mach-O symbols in code sections.
    case function
    /// Data: ELF `STT_OBJECT` and common blocks, Mach-O symbols in other sections.
    case data
    /// A thread-local variable (ELF `STT_TLS`, Mach-O thread-local sections).
    case tls
    /// An ELF section symbol.
    case section
    /// An ELF source-file symbol.
    case file
    /// Everything else (untyped labels, absolute values, undefined Mach-O references).
    case other

    init(_ kind: ObjectSymbolKind) {
        switch kind {
        case .function, .ifunc: self = .function
        case .object, .common: self = .data
        case .tls: self = .tls
        case .section: self = .section
        case .file: self = .file
        case .notype, .other: self = .other
        }
    }

    /// Stable one-byte code stored in tables and cache files.
    var code: UInt8 {
        switch self {
        case .function: 0
        case .data: 1
        case .tls: 2
        case .section: 3
        case .file: 4
        case .other: 5
        }
    }

    init(code: UInt8) {
        switch code {
        case 0: self = .function
        case 1: self = .data
        case 2: self = .tls
        case 3: self = .section
        case 4: self = .file
        default: self = .other
        }
    }
}

/// Who can see a symbol.
public enum SymbolBinding: String, Sendable, Hashable, CaseIterable, Codable {
    case global
    case local
    case weak

    init(_ binding: ObjectSymbolBinding) {
        switch binding {
        case .global: self = .global
        case .local: self = .local
        case .weak: self = .weak
        }
    }

    var code: UInt8 {
        switch self {
        case .global: 0
        case .local: 1
        case .weak: 2
        }
    }

    init(code: UInt8) {
        switch code {
        case 0: self = .global
        case 2: self = .weak
        default: self = .local
        }
    }
}
