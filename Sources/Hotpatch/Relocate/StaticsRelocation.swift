import Foundation
import ObjectFile

/// The flags around the relocate stage: what the thin rebuild adds so every address in the patch
/// object is a 64-bit absolute relocation that can be pointed anywhere, and what the link needs.
public enum StaticsRelocation {
    /// x86_64: every address becomes a `movabs` with an `R_X86_64_64`; the crate's own
    /// thread-locals use local-exec (`R_X86_64_TPOFF32`). A PIC small-model object reaches the
    /// crate's statics PC-relative within ±2 GB, which a library mapped at 0x7f… can't stretch to
    /// an executable at 0x55…. aarch64: every address becomes a `MOVZ`/`MOVK` quartet
    /// (`MOVW_UABS_G0_NC`…`G3`), the crate's own thread-locals `TLSLE_ADD_TPREL_HI12`/`LO12_NC`.
    public static let largeCodeModel = ["-Ccode-model=large", "-Crelocation-model=static"]

    /// x86_64, `-z notext`: the `movabs` immediates are text relocations, which glibc's loader
    /// applies (Android's and hardened SELinux loaders refuse them).
    /// (`-Bsymbolic`, which every ELF patch link has, keeps the patch's calls in the patch.)
    public static let linkerArguments = ["-Wl,-z,notext"]

    /// aarch64, `-z text`: the rewrite leaves no text relocation (Android's loader refuses
    /// `DT_TEXTREL`), so lld must fail rather than emit one if something slipped through.
    public static let aarch64LinkerArguments = ["-Wl,-z,text"]

    /// The shared link's extra linker flags for `triple`.
    public static func linkerArguments(target triple: String) -> [String] {
        triple.hasPrefix("aarch64") ? aarch64LinkerArguments : linkerArguments
    }

    /// Whether patches for `triple` get one slide-independent library: x86_64 Linux with glibc,
    /// aarch64 Linux with glibc and Android (never musl).
    public static func isSupported(target triple: String) -> Bool {
        let parts = triple.split(separator: "-").map(String.init)
        guard !parts.contains(where: { $0.hasPrefix("musl") }), let os = LinkerOS(triple: triple) else { return false }
        switch parts.first {
        case "x86_64": return os == .linux
        case "aarch64": return os == .linux || os == .android
        default: return false
        }
    }
}

/// How a patch library reaches the executable, recorded in the PatchPlan (`library.linkMode`).
public enum PatchLinkMode: String, Codable, Sendable {
    /// One library for every process of the build: references are relative to the executable's
    /// `main`, fixed up by the dynamic loader; statics are the executable's.
    case shared
    /// One library per process slide, through a stub of absolute addresses (other targets, and
    /// the fallback when an object can't be made slide-independent).
    case perDevice = "per-device"
}

extension LinkPlan {
    /// Links only the code reachable from the link roots (the changed functions and their
    /// callers, whose sections ``retainRoots(_:inObjects:)`` marked): the codegen units hold much
    /// more, which the executable already runs. A version script exports nothing but the statics
    /// a patch adds (later patches bind them), so `--gc-sections` drops every section the roots
    /// don't reach. The jump table routes what is left, so a function dropped here keeps running
    /// the executable's copy, which is the same code.
    func keepingOnlyRoots(versionScript: URL) throws -> LinkPlan {
        let script = "{\n  global:\n    \(SlideIndependentObject.newStaticPrefix)*;\n  local: *;\n};\n"
        try JSONFile.writeAtomically(Data(script.utf8), to: versionScript)
        return insertingBeforeOutput(["-Wl,--gc-sections", "-Wl,--version-script=\(versionScript.path)"])
    }

    /// Marks the sections defining `roots` in the slide-independent `objects` as retained
    /// (`SHF_GNU_RETAIN`): local functions — a `whisker_hot::call` trampoline is one — cannot be
    /// exported, but their sections can be kept. The object's own `main` was renamed.
    static func retainRoots(_ roots: [String], inObjects objects: [String]) throws {
        let names = Set(roots.map { $0 == "main" ? SlideIndependentObject.renamedMain : $0 })
        for object in objects {
            let table = try SymbolTable.make(contentsOf: object)
            var sections = Set<Int>()
            for index in table.indices where table.isDefined(at: index) && table.kind(at: index) == .function {
                guard let section = table.sectionIndex(at: index), names.contains(table.name(at: index)) else { continue }
                sections.insert(section)
            }
            do { try ELFFile.retainSections(sections, inObjectAt: object) } catch {
                throw RelocateError.malformedObject(path: object, reason: "\(error)")
            }
        }
    }

    /// The plan with ``StaticsRelocation/linkerArguments(target:)`` before the output flag
    /// (x86_64's when no target is given).
    func addingSharedLibraryFlags(target triple: String = "x86_64-unknown-linux-gnu") -> LinkPlan {
        insertingBeforeOutput(StaticsRelocation.linkerArguments(target: triple).filter { !arguments.contains($0) })
    }

    /// The plan with `extra` just before `-o` (or at the end).
    func insertingBeforeOutput(_ extra: [String]) -> LinkPlan {
        var plan = self
        let position = plan.arguments.firstIndex(of: "-o") ?? plan.arguments.endIndex
        plan.arguments.insert(contentsOf: extra, at: position)
        return plan
    }
}

extension StaticsRelocationSummary {
    /// Names sorted and each listed once.
    func normalized() -> StaticsRelocationSummary {
        var copy = self
        func unique(_ names: [String]) -> [String] { Array(Set(names)).sorted() }
        copy.statics = unique(statics)
        copy.threadLocals = unique(threadLocals)
        copy.newStatics = unique(newStatics).filter { !copy.statics.contains($0) }
        copy.earlierPatchStatics = unique(earlierPatchStatics)
        copy.changed = unique(changed)
        return copy
    }
}
