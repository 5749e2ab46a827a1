import HTTP

extension ProjectRoutes {
    /// A device's state across its hot restart: the old process puts bytes, the new one gets them.
    /// The bytes are the app's own encoding, sent and answered as they are.
    func registerDeviceState(on router: inout Router) {
        router.put("/api/devices/{id}/state") { request in
            try session.saveState(request.body, forDevice: try request.pathParameter("id"))
            return .noContent
        }
        router.get("/api/devices/{id}/state") { request in
            .bytes(try session.savedState(ofDevice: try request.pathParameter("id")), contentType: MediaType.octetStream)
        }
    }
}
