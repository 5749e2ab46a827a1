extension ObjectFunctions {
    /// The same as ``init(objects:)``, each object read once per file: a codegen unit rustc reused
    /// is a hard link of the warm-up's (same device, inode, size and mtime), and the unit selection
    /// has just read the units that changed, so the per-function diff of a patch reads nothing
    /// again. A file rewritten in place has another mtime or size, and is read afresh.
    static func reading(objects: [String]) throws(FunctionDiffError) -> ObjectFunctions {
        var perObject: [[Function]] = []
        for path in objects { perObject.append(try cachedFunctions(ofObjectAt: path)) }
        return ObjectFunctions(objects: objects, merging: perObject)
    }

    /// ``functions(ofObjectAt:)``, once per file identity.
    static func cachedFunctions(ofObjectAt path: String) throws(FunctionDiffError) -> [Function] {
        let identity = FileStatus(path: path)
        if let identity, let hit = objectFunctionCache.withLock({ $0[identity] }) { return hit }
        let functions = try functions(ofObjectAt: path)
        if let identity {
            objectFunctionCache.withLock { cache in
                // A long-running server sees a few thousand units per build; start afresh past that.
                if cache.count >= 8192 { cache.removeAll() }
                cache[identity] = functions
            }
        }
        return functions
    }
}

/// Objects' functions by file identity (``FileStatus``: device, inode, size, mtime).
private let objectFunctionCache = Locked<[FileStatus: [ObjectFunctions.Function]]>([:])
