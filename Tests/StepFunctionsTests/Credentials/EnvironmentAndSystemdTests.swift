import Foundation
import Testing
@testable import StepFunctions

@Suite(.timeLimit(.minutes(1))) struct EnvironmentCredentialProviderTests {
    @Test func readsKeysAndSessionToken() async throws {
        let provider = EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
        ])
        #expect(try await provider.credentials() == AWSCredentials(accessKeyID: "AKIAENV", secretAccessKey: "secret", sessionToken: "token"))
    }

    @Test func emptySessionTokenIsNoToken() async throws {
        let provider = EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
        ])
        #expect(try await provider.credentials().sessionToken == nil)
    }

    @Test func unsetIsNotConfigured() {
        #expect(throws: CredentialError.notConfigured("environment", "AWS_ACCESS_KEY_ID not set")) {
            try EnvironmentCredentialProvider(environment: [:]).load()
        }
    }

    @Test func halfAPairIsInvalidAndNamesNoSecret() {
        let error = #expect(throws: CredentialError.self) {
            try EnvironmentCredentialProvider(environment: ["AWS_SECRET_ACCESS_KEY": "s3cr3t-value"]).load()
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.description.contains("s3cr3t-value") == false)
        #expect(throws: CredentialError.self) {
            try EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKIA"]).load()
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct SystemdCredentialProviderTests {
    @Test func readsFilesAndTrimsOneTrailingNewline() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        try directory.write("aws-access-key-id", "AKIASYSTEMD\n")
        try directory.write("aws-secret-access-key", "secret with space \n")
        try directory.write("aws-session-token", "token\r\n")
        let credentials = try SystemdCredentialProvider(environment: ["CREDENTIALS_DIRECTORY": directory.path]).load()
        #expect(credentials == AWSCredentials(accessKeyID: "AKIASYSTEMD", secretAccessKey: "secret with space ", sessionToken: "token"))
    }

    @Test func sessionTokenIsOptional() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        try directory.write("aws-access-key-id", "AKIASYSTEMD")
        try directory.write("aws-secret-access-key", "secret")
        #expect(try SystemdCredentialProvider(environment: ["CREDENTIALS_DIRECTORY": directory.path]).load().sessionToken == nil)
    }

    @Test func unsetDirectoryOrMissingFilesAreNotConfigured() throws {
        #expect(throws: CredentialError.notConfigured("systemd credentials", "CREDENTIALS_DIRECTORY not set")) {
            try SystemdCredentialProvider(environment: [:]).load()
        }
        let directory = try TempDirectory()
        defer { directory.remove() }
        let error = #expect(throws: CredentialError.self) {
            try SystemdCredentialProvider(environment: ["CREDENTIALS_DIRECTORY": directory.path]).load()
        }
        #expect(error?.code == .notConfigured)
    }

    @Test func secretWithoutKeyIDIsInvalid() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        try directory.write("aws-secret-access-key", "secret")
        let error = #expect(throws: CredentialError.self) {
            try SystemdCredentialProvider(environment: ["CREDENTIALS_DIRECTORY": directory.path]).load()
        }
        #expect(error?.code == .invalidConfiguration)
    }
}
