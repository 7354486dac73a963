import Foundation
import StepFunctions
import Testing

/// Our signer against vectors botocore computed (scripts/make-sigv4-vectors.py): every piece,
/// byte for byte.
@Suite struct SigV4SignerTests {
    struct Vector: Decodable, CustomTestStringConvertible {
        struct Request: Decodable {
            var method: String
            var path: String
            var query: String
            var headers: [[String]]
            var bodyBase64: String
        }
        struct Credentials: Decodable {
            var accessKeyID: String
            var secretAccessKey: String
            var sessionToken: String?
        }
        struct Expected: Decodable {
            var canonicalRequest: String
            var stringToSign: String
            var signature: String
            var authorization: String
            var signedHeaders: [[String]]
        }
        var name: String
        var request: Request
        var credentials: Credentials
        var region: String
        var service: String
        var timestamp: String
        var unixTime: Int
        var expected: Expected

        var testDescription: String { name }

        var signingRequest: SigningRequest {
            SigningRequest(
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers.map { .init(name: $0[0], value: $0[1]) },
                body: Array(Data(base64Encoded: request.bodyBase64)!)
            )
        }
        var awsCredentials: AWSCredentials {
            AWSCredentials(
                accessKeyID: credentials.accessKeyID,
                secretAccessKey: credentials.secretAccessKey,
                sessionToken: credentials.sessionToken
            )
        }
    }

    static let vectors: [Vector] = {
        struct File: Decodable { var vectors: [Vector] }
        let url = Bundle.module.url(forResource: "sigv4-vectors", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
    }()

    @Test func thereAreVectorsOfEveryKind() {
        #expect(Self.vectors.count >= 12)
        #expect(Self.vectors.contains { $0.credentials.sessionToken != nil })
        #expect(Self.vectors.contains { !$0.request.query.isEmpty })
    }

    @Test(arguments: vectors)
    func signsExactlyAsBotocore(_ vector: Vector) {
        let signer = SigV4Signer(service: vector.service, region: vector.region)
        let date = Date(timeIntervalSince1970: TimeInterval(vector.unixTime))
        #expect(SigV4Signer.timestamp(date) == vector.timestamp)

        var request = vector.signingRequest
        signer.sign(&request, credentials: vector.awsCredentials, date: date)
        #expect(request.values(of: "Authorization") == [vector.expected.authorization])
        #expect(request.headers.map { [$0.name.lowercased(), $0.value] }
            == vector.expected.signedHeaders.map { [$0[0].lowercased(), $0[1]] })

        // Each piece on its own, as the local endpoint uses them to verify.
        var unsigned = request
        unsigned.removeHeader("Authorization")
        let names = SigV4Signer.signedHeaderNames(of: unsigned)
        let canonical = SigV4Signer.canonicalRequest(unsigned, signedHeaders: names)
        #expect(canonical == vector.expected.canonicalRequest)
        let toSign = SigV4Signer.stringToSign(
            canonicalRequest: canonical,
            timestamp: vector.timestamp,
            scope: signer.credentialScope(timestamp: vector.timestamp)
        )
        #expect(toSign == vector.expected.stringToSign)
        #expect(
            signer.signature(stringToSign: toSign, secretAccessKey: vector.credentials.secretAccessKey, timestamp: vector.timestamp)
                == vector.expected.signature
        )
    }

    @Test func aDifferentSecretGivesADifferentSignature() {
        let vector = Self.vectors[0]
        let signer = SigV4Signer(service: vector.service, region: vector.region)
        var credentials = vector.awsCredentials
        credentials.secretAccessKey += "x"
        var request = vector.signingRequest
        signer.sign(&request, credentials: credentials, date: Date(timeIntervalSince1970: TimeInterval(vector.unixTime)))
        #expect(request.values(of: "Authorization") != [vector.expected.authorization])
    }

    /// One signer kept across every vector, as a client keeps it: its cached signing key never
    /// signs for another secret, day, or (with the same secret again) after either changed.
    @Test func oneSignerSignsEveryVectorAsFreshOnesDo() {
        var signers: [String: SigV4Signer] = [:]
        for vector in Self.vectors + Self.vectors.reversed() + Self.vectors {
            let signer = signers["\(vector.service)/\(vector.region)", default: SigV4Signer(service: vector.service, region: vector.region)]
            signers["\(vector.service)/\(vector.region)"] = signer
            var request = vector.signingRequest
            signer.sign(&request, credentials: vector.awsCredentials, date: Date(timeIntervalSince1970: TimeInterval(vector.unixTime)))
            #expect(request.values(of: "Authorization") == [vector.expected.authorization], "\(vector.name)")
        }
        let vector = Self.vectors[0]
        let signer = SigV4Signer(service: vector.service, region: vector.region)
        var nextDay = vector.signingRequest
        signer.sign(&nextDay, credentials: vector.awsCredentials, date: Date(timeIntervalSince1970: TimeInterval(vector.unixTime + 86_400)))
        var fresh = vector.signingRequest
        SigV4Signer(service: vector.service, region: vector.region)
            .sign(&fresh, credentials: vector.awsCredentials, date: Date(timeIntervalSince1970: TimeInterval(vector.unixTime + 86_400)))
        #expect(nextDay.values(of: "Authorization") == fresh.values(of: "Authorization"))
        var sameDay = vector.signingRequest
        signer.sign(&sameDay, credentials: vector.awsCredentials, date: Date(timeIntervalSince1970: TimeInterval(vector.unixTime)))
        #expect(sameDay.values(of: "Authorization") == [vector.expected.authorization])
    }

    @Test func timestampsAreZeroPaddedUTC() {
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 951_782_400 + 3_723)) == "20000229T010203Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 1_798_761_599.9)) == "20261231T235959Z")
    }

    @Test func headerValuesHaveTheirWhitespaceFoldedAsBotocore() {
        let request = SigningRequest(
            method: "POST", path: "/",
            headers: [.init(name: "A", value: "plain-value;x=1"), .init(name: "B", value: "  two\t words \n here  "), .init(name: "C", value: "caf\u{e9}  ok")],
            body: [])
        let canonical = SigV4Signer.canonicalRequest(request, signedHeaders: ["a", "b", "c"])
        #expect(canonical.contains("a:plain-value;x=1\nb:two words here\nc:caf\u{e9} ok\n"))
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "t0k3n")
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)"] {
            #expect(!text.contains("s3cr3t"))
            #expect(!text.contains("t0k3n"))
            #expect(text.contains("AKID"))
        }
    }
}
