import StepFunctions
import Testing

@Suite struct EndpointResolverTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var region: String
        var fips = false
        var dualStack = false
        var explicit: String? = nil
        var environment: [String: String] = [:]
        var expected: String
        var testDescription: String { "\(region) fips=\(fips) dualstack=\(dualStack) \(explicit ?? "") \(environment) -> \(expected)" }
    }

    static let rows: [Row] = [
        Row(region: "eu-west-1", expected: "https://states.eu-west-1.amazonaws.com/"),
        Row(region: "us-east-1", fips: true, expected: "https://states-fips.us-east-1.amazonaws.com/"),
        Row(region: "us-east-2", dualStack: true, expected: "https://states.us-east-2.api.aws/"),
        Row(region: "us-west-2", fips: true, dualStack: true, expected: "https://states-fips.us-west-2.api.aws/"),
        Row(region: "cn-north-1", expected: "https://states.cn-north-1.amazonaws.com.cn/"),
        Row(region: "cn-northwest-1", dualStack: true, expected: "https://states.cn-northwest-1.api.amazonwebservices.com.cn/"),
        Row(region: "us-gov-west-1", fips: true, expected: "https://states.us-gov-west-1.amazonaws.com/"),
        Row(region: "us-gov-east-1", fips: true, expected: "https://states-fips.us-gov-east-1.amazonaws.com/"),
        Row(region: "us-gov-east-1", expected: "https://states.us-gov-east-1.amazonaws.com/"),
        Row(region: "us-iso-east-1", expected: "https://states.us-iso-east-1.c2s.ic.gov/"),
        Row(region: "us-isob-east-1", fips: true, expected: "https://states-fips.us-isob-east-1.sc2s.sgov.gov/"),
        Row(region: "ap-southeast-7", expected: "https://states.ap-southeast-7.amazonaws.com/"),
        Row(region: "eu-west-1", explicit: "http://127.0.0.1:8083", expected: "http://127.0.0.1:8083/"),
        Row(region: "eu-west-1", explicit: "https://vpce-1.states.eu-west-1.vpce.amazonaws.com/",
            environment: ["AWS_ENDPOINT_URL_SFN": "http://ignored:1"], expected: "https://vpce-1.states.eu-west-1.vpce.amazonaws.com/"),
        Row(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL_SFN": "http://localhost:9000", "AWS_ENDPOINT_URL": "http://other:1"],
            expected: "http://localhost:9000/"),
        Row(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL": "https://proxy.example:8443/sfn"], expected: "https://proxy.example:8443/sfn"),
        Row(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL_SFN": ""], expected: "https://states.eu-west-1.amazonaws.com/"),
        Row(region: "eu-west-1", explicit: "https://states.eu-west-1.amazonaws.com:443", expected: "https://states.eu-west-1.amazonaws.com/"),
        Row(region: "eu-west-1", explicit: "http://[::1]:8083", expected: "http://[::1]:8083/"),
    ]

    @Test(arguments: rows)
    func resolves(_ row: Row) throws {
        let endpoint = try EndpointResolver.resolve(
            .init(region: row.region, endpoint: row.explicit, useFIPS: row.fips, useDualStack: row.dualStack),
            environment: row.environment)
        #expect(endpoint.url == row.expected)
        #expect(endpoint.signingRegion == row.region)
    }

    @Test func hostHeaderCarriesANonDefaultPortOnly() throws {
        let local = try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: "http://127.0.0.1:8083"), environment: [:])
        #expect(local.hostHeader == "127.0.0.1:8083")
        let aws = try EndpointResolver.resolve(.init(region: "us-east-1"), environment: [:])
        #expect(aws.hostHeader == "states.us-east-1.amazonaws.com")
        // An IPv6 address keeps its brackets with or without a port (the Host header and URL
        // would be ambiguous without them).
        let v6 = try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: "http://[fd00::1]/"), environment: [:])
        #expect(v6.hostHeader == "[fd00::1]")
        #expect(v6.url == "http://[fd00::1]/")
        let v6Port = try EndpointResolver.resolve(.init(region: "us-east-1", endpoint: "http://[fd00::1]:8083"), environment: [:])
        #expect(v6Port.hostHeader == "[fd00::1]:8083")
    }

    @Test(arguments: [
        ("", nil as String?, false),
        ("EU-WEST-1", nil, false),
        ("eu-west-1", "ftp://host", false),
        ("eu-west-1", "http://:80", false),
        ("eu-west-1", "http://host:99999", false),
        ("us-iso-east-1", nil, true),
    ])
    func rejects(region: String, endpoint: String?, dualStack: Bool) {
        #expect(throws: EndpointResolver.ResolutionError.self) {
            try EndpointResolver.resolve(.init(region: region, endpoint: endpoint, useDualStack: dualStack), environment: [:])
        }
    }
}
