import FoundationEssentials

/// Resolves the endpoint as the AWS SDKs do: an explicit endpoint, then `AWS_ENDPOINT_URL_SFN`,
/// then `AWS_ENDPOINT_URL`, else derived from the region's partition (with FIPS and dual-stack
/// variants).
public enum EndpointResolver {
    public struct Options: Sendable, Equatable {
        public var region: String
        public var endpoint: String?
        public var useFIPS: Bool
        public var useDualStack: Bool

        public init(region: String, endpoint: String? = nil, useFIPS: Bool = false, useDualStack: Bool = false) {
            self.region = region
            self.endpoint = endpoint
            self.useFIPS = useFIPS
            self.useDualStack = useDualStack
        }
    }

    public struct ResolutionError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// A partition: which regions it holds and its DNS suffixes (from botocore's endpoints.json).
    struct Partition {
        var name: String
        var regionPrefix: String
        var dnsSuffix: String
        var dualStackSuffix: String?
    }

    /// Most specific prefix first; "aws" takes every other region.
    static let partitions: [Partition] = [
        Partition(name: "aws-cn", regionPrefix: "cn-", dnsSuffix: "amazonaws.com.cn", dualStackSuffix: "api.amazonwebservices.com.cn"),
        Partition(name: "aws-us-gov", regionPrefix: "us-gov-", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws"),
        Partition(name: "aws-iso-b", regionPrefix: "us-isob-", dnsSuffix: "sc2s.sgov.gov", dualStackSuffix: nil),
        Partition(name: "aws-iso-f", regionPrefix: "us-isof-", dnsSuffix: "csp.hci.ic.gov", dualStackSuffix: nil),
        Partition(name: "aws-iso", regionPrefix: "us-iso-", dnsSuffix: "c2s.ic.gov", dualStackSuffix: nil),
        Partition(name: "aws-iso-e", regionPrefix: "eu-isoe-", dnsSuffix: "cloud.adc-e.uk", dualStackSuffix: nil),
        Partition(name: "aws-eusc", regionPrefix: "eusc-", dnsSuffix: "amazonaws.eu", dualStackSuffix: "api.amazonwebservices.eu"),
        Partition(name: "aws", regionPrefix: "", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws"),
    ]

    /// Regions whose FIPS endpoint is the plain host (botocore's endpoints.json).
    static let fipsOnPlainHost: Set<String> = ["us-gov-west-1"]

    public static func resolve(_ options: Options, environment: [String: String]) throws(ResolutionError) -> Endpoint {
        let region = options.region
        guard isValidRegion(region) else {
            throw ResolutionError(description: "region '\(region)' is not a valid AWS region name")
        }
        for (source, value) in [("endpoint", options.endpoint), ("AWS_ENDPOINT_URL_SFN", environment["AWS_ENDPOINT_URL_SFN"]),
                                ("AWS_ENDPOINT_URL", environment["AWS_ENDPOINT_URL"])] {
            if let value, !value.isEmpty {
                return try parse(url: value, source: source, signingRegion: region)
            }
        }
        let partition = partitions.first { region.hasPrefix($0.regionPrefix) }!
        let service = options.useFIPS && !fipsOnPlainHost.contains(region) ? "states-fips" : "states"
        let suffix: String
        if options.useDualStack {
            guard let dualStack = partition.dualStackSuffix else {
                throw ResolutionError(description: "dual-stack endpoints are not available in partition \(partition.name) (region \(region))")
            }
            suffix = dualStack
        } else {
            suffix = partition.dnsSuffix
        }
        return Endpoint(scheme: "https", host: "\(service).\(region).\(suffix)", signingRegion: region)
    }

    /// Lowercase letters, digits and dashes, starting with a letter: what every AWS region looks like.
    static func isValidRegion(_ region: String) -> Bool {
        guard let first = region.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return region.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func parse(url: String, source: String, signingRegion: String) throws(ResolutionError) -> Endpoint {
        let schemeEnd = url.firstRange(of: "://")
        guard let schemeEnd, ["http", "https"].contains(url[..<schemeEnd.lowerBound].lowercased()) else {
            throw ResolutionError(description: "\(source) '\(url)' must be an http:// or https:// URL")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<cut]) }
        var host = Substring(authority)
        var port: Int?
        if host.hasPrefix("[") {  // IPv6 literal
            guard let close = host.firstIndex(of: "]") else {
                throw ResolutionError(description: "\(source) '\(url)' has an unclosed IPv6 address")
            }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? -1 }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            port = Int(host[host.index(after: colon)...]) ?? -1
            host = host[..<colon]
        }
        guard !host.isEmpty, !host.contains("@") else {
            throw ResolutionError(description: "\(source) '\(url)' has no host")
        }
        if let port, !(1...65535).contains(port) {
            throw ResolutionError(description: "\(source) '\(url)' has an invalid port")
        }
        return Endpoint(scheme: scheme, host: String(host), port: port, path: path, signingRegion: signingRegion)
    }
}
