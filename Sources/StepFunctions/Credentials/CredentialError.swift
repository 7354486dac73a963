/// Why credentials could not be had. Messages name the source and the setting involved, never a
/// secret: no secret key, session token, web identity token or credential process output.
public struct CredentialError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The source is not set up on this host (variable unset, no file, no metadata service):
        /// a chain moves on to its next source.
        public static let notConfigured = Code("notConfigured")
        /// The source is set up, but wrongly (half a key pair, a profile cycle, a bad URI).
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The source is set up, but fetching from it failed (STS error, process exit, HTTP error).
        public static let retrievalFailed = Code("retrievalFailed")
        /// No source in a chain had credentials; the message lists each one and why.
        public static let noCredentials = Code("noCredentials")
        /// No region could be found.
        public static let noRegion = Code("noRegion")
    }

    public let code: Code
    /// The source it came from (`environment`, `IMDS`, …), when there is one.
    public let source: String?
    public let message: String

    public init(_ code: Code, source: String? = nil, _ message: String) {
        self.code = code
        self.source = source
        self.message = message
    }

    public var description: String {
        source.map { "\($0): \(message)" } ?? message
    }

    static func notConfigured(_ source: String, _ message: String) -> CredentialError {
        CredentialError(.notConfigured, source: source, message)
    }

    static func invalid(_ source: String, _ message: String) -> CredentialError {
        CredentialError(.invalidConfiguration, source: source, message)
    }

    static func failed(_ source: String, _ message: String) -> CredentialError {
        CredentialError(.retrievalFailed, source: source, message)
    }
}
