/// The bytes apps saved for their hot restart (`whisker_hot::on_save_state`), by the device that
/// saved them, until the new process reads them back (`whisker_hot::restored_state`).
///
/// Kept in memory only, and only the latest few: a restart reads its state within seconds, and
/// a server restart ends every device's session anyway. Each blob is at most the server's body
/// limit.
struct SavedStates: Sendable {
    /// How many devices' states are kept; saving one more forgets the oldest.
    static let capacity = 32

    private var bytesByDevice: [String: [UInt8]] = [:]
    /// Device ids, oldest save first.
    private var order: [String] = []

    subscript(deviceId: String) -> [UInt8]? {
        bytesByDevice[deviceId]
    }

    mutating func save(_ bytes: [UInt8], for deviceId: String) {
        order.removeAll { $0 == deviceId }
        order.append(deviceId)
        bytesByDevice[deviceId] = bytes
        while order.count > Self.capacity {
            bytesByDevice[order.removeFirst()] = nil
        }
    }

    /// Forgets what `deviceId` saved (the device was removed: its state is gone with it).
    mutating func forget(_ deviceId: String) {
        order.removeAll { $0 == deviceId }
        bytesByDevice[deviceId] = nil
    }
}
