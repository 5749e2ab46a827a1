/// The flags of a captured link that the patch link must repeat so the same toolchain is used.
///
/// rustc ≥ 1.90 links through its bundled lld by passing `-B <sysroot>/lib/rustlib/<triple>/bin/gcc-ld`
/// and `-fuse-ld=lld`; dropping the `-B` makes the driver look for a system `ld.lld` (the most
/// common patch-link failure reported against other tools). `-m64`-style flags, the target,
/// `-arch` and the sysroot pick the ABI and the libraries; `-L` finds them.
struct CapturedLinkFlags: Equatable {
    /// The forwarded arguments, in their original order and spelling.
    var forwarded: [String] = []
    /// Whether an `-arch` was forwarded (macOS).
    var hasArch = false

    /// Picks the forwarded flags out of `arguments` (already `@file`-expanded).
    init(_ arguments: [String]) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            switch Self.classify(argument) {
            case .skip:
                index += 1
            case .alone:
                forwarded.append(argument)
                index += 1
            case .withValue:
                guard let next else {
                    index += 1
                    continue
                }
                forwarded += [argument, next]
                if argument == "-arch" { hasArch = true }
                index += 2
            }
        }
    }

    private enum Shape {
        case skip
        case alone
        case withValue
    }

    private static let separateValueFlags: Set<String> = [
        "-B", "-L", "-target", "--target", "-arch", "--sysroot", "-isysroot", "-mllvm",
    ]

    private static func classify(_ argument: String) -> Shape {
        if separateValueFlags.contains(argument) { return .withValue }
        // Linker options that GCC would misread as a `-B<prefix>` search path.
        if ["-Bstatic", "-Bdynamic", "-Bsymbolic", "-Bsymbolic-functions"].contains(argument) { return .skip }
        if argument.hasPrefix("-B") || argument.hasPrefix("-L") { return .alone }
        if argument.hasPrefix("-fuse-ld=") || argument.hasPrefix("--target=") || argument.hasPrefix("--sysroot=") {
            return .alone
        }
        // -m64, -m32, -march=…, -mcpu=…, -mmacosx-version-min=…, -mios-version-min=…
        if argument.hasPrefix("-m"), argument.count > 2 { return .alone }
        return .skip
    }
}
