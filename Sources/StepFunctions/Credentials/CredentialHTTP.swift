import FoundationEssentials
import NIOCore
import NIOHTTP1

/// One HTTP exchange with a credentials endpoint (IMDS, container, STS), bounded by a deadline
/// so an unreachable metadata address cannot hold a worker.
struct CredentialHTTP: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: Data
    }

    let client: HTTP1Client
    /// How large an answer may be; credential documents are small.
    static let maxBody = 1 << 20

    func send(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Duration
    ) async throws -> Response {
        let request = try HTTP1Request(
            method: method, url: url, headers: HTTPHeaders(headers), body: body.map { ByteBuffer(bytes: $0) })
        let response = try await client.execute(request, timeout: timeout, maxResponseBytes: Self.maxBody)
        return Response(status: Int(response.status.code), body: Data(response.body.readableBytesView))
    }

    /// Words for a failed exchange that carry no request data: "connection refused", "timed out".
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTP1Error {
            switch error.kind {
            case .timeout, .connectTimeout: return "timed out"
            case .connectionClosed: return "connection closed by the server"
            default: break
            }
        }
        let text = "\(error)"
        if text.lowercased().contains("refused") { return "connection refused" }
        return text
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
