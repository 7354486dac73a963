import Foundation
import NIOCore
import NIOHTTP1
import StepFunctions
import StepFunctionsLocal
import Testing

/// Signature checks on requests built in memory and signed with `SigV4Signer`.
@Suite struct SignatureVerifierTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    let verifier = SignatureVerifier(credentials: testCredentials, region: "us-east-1")

    func request(
        signedWith credentials: AWSCredentials? = testCredentials, region: String = "us-east-1", at date: Date? = nil,
        body: String = "{\"name\":\"x\"}"
    ) -> HTTPServerRequest {
        var signing = SigningRequest(
            method: "POST", path: "/", query: "a=1",
            headers: [
                .init(name: "Host", value: "127.0.0.1:8083"),
                .init(name: "Content-Type", value: Wire.contentType),
                .init(name: "X-Amz-Target", value: "AWSStepFunctions.CreateActivity"),
            ],
            body: Array(body.utf8))
        if let credentials {
            SigV4Signer(service: "states", region: region).sign(&signing, credentials: credentials, date: date ?? now)
        }
        return HTTPServerRequest(
            method: .POST, uri: "/?a=1", headers: HTTPHeaders(signing.headers.map { ($0.name, $0.value) }),
            body: ByteBuffer(string: body))
    }

    @Test func aProperSignatureIsAccepted() {
        #expect(verifier.verify(request(), now: now) == nil)
    }

    @Test func aTemporaryKeyIsAcceptedWithAnySessionToken() {
        var credentials = testCredentials
        credentials.sessionToken = "whatever"
        #expect(verifier.verify(request(signedWith: credentials), now: now) == nil)
    }

    @Test func aConfiguredSessionTokenMustMatch() {
        var configured = testCredentials
        configured.sessionToken = "expected"
        let strict = SignatureVerifier(credentials: configured, region: "us-east-1")
        var sent = testCredentials
        sent.sessionToken = "other"
        #expect(strict.verify(request(signedWith: sent), now: now)?.code == "UnrecognizedClientException")
        sent.sessionToken = "expected"
        #expect(strict.verify(request(signedWith: sent), now: now) == nil)
    }

    /// A captured signed heartbeat must not be replayable as another operation by adding an
    /// unsigned X-Amz-Target: every x-amz-* header has to be signed.
    @Test func anUnsignedAmzHeaderIsRefused() {
        var signing = SigningRequest(
            method: "POST", path: "/", headers: [.init(name: "Host", value: "127.0.0.1:8083")], body: Array("{}".utf8))
        SigV4Signer(service: "states", region: "us-east-1").sign(&signing, credentials: testCredentials, date: now)
        signing.headers.append(.init(name: "X-Amz-Target", value: "AWSStepFunctions.SendTaskFailure"))
        let request = HTTPServerRequest(
            method: .POST, uri: "/", headers: HTTPHeaders(signing.headers.map { ($0.name, $0.value) }), body: ByteBuffer(string: "{}"))
        let error = verifier.verify(request, now: now)
        #expect(error?.code == "IncompleteSignatureException")
        #expect(error?.message.contains("x-amz-target") == true)
    }

    @Test func aWrongSecretIsAnInvalidSignature() {
        let wrong = AWSCredentials(accessKeyID: testCredentials.accessKeyID, secretAccessKey: "not-the-secret")
        let error = verifier.verify(request(signedWith: wrong), now: now)
        #expect(error?.code == "InvalidSignatureException")
        #expect(error?.status == .forbidden)
        #expect(error?.message.hasPrefix("The request signature we calculated does not match") == true)
    }

    @Test func aChangedBodyIsAnInvalidSignature() {
        var tampered = request()
        tampered.body = ByteBuffer(string: "{\"name\":\"y\"}")
        #expect(verifier.verify(tampered, now: now)?.code == "InvalidSignatureException")
    }

    @Test func anUnknownKeyIsAnUnrecognizedClient() {
        let other = AWSCredentials(accessKeyID: "AKIDOTHER", secretAccessKey: testCredentials.secretAccessKey)
        #expect(verifier.verify(request(signedWith: other), now: now) == .unrecognizedClient)
    }

    @Test func noSignatureIsAMissingToken() {
        #expect(verifier.verify(request(signedWith: nil), now: now)?.code == "MissingAuthenticationTokenException")
    }

    @Test func aGarbledHeaderIsAnIncompleteSignature() {
        var garbled = request()
        garbled.headers.replaceOrAdd(name: "Authorization", value: "AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST/20231114")
        #expect(verifier.verify(garbled, now: now)?.code == "IncompleteSignatureException")
    }

    @Test func aSignatureOlderThanFifteenMinutesHasExpired() {
        let old = request(at: now - 16 * 60)
        let error = verifier.verify(old, now: now)
        #expect(error?.code == "InvalidSignatureException")
        #expect(error?.message.hasPrefix("Signature expired") == true)
        #expect(verifier.verify(request(at: now - 14 * 60), now: now) == nil)
        #expect(verifier.verify(request(at: now + 16 * 60), now: now)?.message.hasPrefix("Signature not yet current") == true)
    }

    @Test func anotherRegionIsRefused() {
        let error = verifier.verify(request(region: "eu-west-1"), now: now)
        #expect(error?.code == "InvalidSignatureException")
        #expect(error?.message.contains("region") == true)
    }
}
